import type { Database, LabelClass, Neighbor, Project, ReadCache } from '@beanstalk/db';
import {
  normaliseRows,
  runSteps,
  stackRows,
  type InferenceThread,
  type Scorer,
  type StepOutput,
  type Vote,
} from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { EncoderCache } from './encoders.ts';
import type { ProjectorCache } from './heads.ts';
import {
  loadAnomalyReferences,
  loadReferences,
  scorerFor,
  type ReferenceSet,
} from './references.ts';

/** The largest k a classification may ask for. */
export const MAX_CLASSIFY_K = 100;

/** Heads whose references are kept in memory at once. */
const MAX_HEADS = 16;

/**
 * How often a head's references may be rebuilt while labels keep arriving: each rebuild reads
 * every labeled vector, so under a steady stream of labels classify answers from references at
 * most this much (plus one build) behind, instead of rebuilding after every label.
 */
export const REBUILD_INTERVAL_MS = 2_000;

/** The parts of a project row that say which models answer for it. */
type ProjectModels = Pick<Project, 'id' | 'activeHeadVersionId' | 'encoderVersionId'>;

export interface Classification {
  headVersionId: string;
  vote: Vote;
  /** Class ids by position, matching vote.probabilities. */
  classIds: string[];
  /** The project's classes as this request read them (current names), to look ids up in. */
  classes: LabelClass[];
  anomalyScore: number;
  /** The labeled references that voted, nearest first. */
  neighbors: Neighbor[];
}

interface CachedScorer {
  /** Label version and normal classes it was built for. */
  key: string;
  builtAt: number;
  set: ReferenceSet;
  scorer: Scorer;
  /** Whether anomaly scores compare backbone features (else there is nothing to compare). */
  backboneAnomaly: boolean;
  /** Requests using it now; a replaced scorer is released when the last one is done. */
  users: number;
  replaced: boolean;
}

/**
 * Classifies images as a round scores pool items: the project's encoder, its active head
 * (the same onnxruntime projection as a reindex), then the Scorer over the head's labeled
 * references (and the backbone-space anomaly references pool scoring uses). So `classify` of
 * a pool item's image gives that item's stored prediction.
 *
 * The references are held per head and rebuilt when the project's label version (or its
 * normal classes) moves: in the background, at most every REBUILD_INTERVAL_MS, while
 * requests keep using the previous ones, so only the first request for a head waits for them.
 * A replaced set is released as soon as no request holds it.
 */
export class Classifier {
  private live = 0;
  private readonly scorers = new Map<
    string,
    { current: Promise<CachedScorer>; next: Promise<CachedScorer> | null }
  >();

  constructor(
    private readonly deps: {
      db: Database;
      /** Where the label version and classes each request checks are read (default: db). */
      reads?: Pick<ReadCache, 'labelVersion' | 'classesOf'>;
      encoders: EncoderCache;
      projectors: ProjectorCache;
    },
    private readonly options: {
      rebuildIntervalMs?: number;
      /** Where the searches run (default: the calling thread); give the caches the same. */
      thread?: InferenceThread;
    } = {},
  ) {}

  /**
   * A head (the project's active one unless `headVersionId` names another of its heads) and
   * its projection of an image (an L2-normalised vector), with the image's backbone features
   * (L2-normalised, what anomaly scores compare).
   */
  async embed(
    project: ProjectModels,
    image: { name: string; bytes: Uint8Array },
    headVersionId?: string | null,
  ): Promise<{ headVersionId: string; vector: Float32Array; features: Float32Array }> {
    return this.embedAll(
      { ...project, activeHeadVersionId: headVersionId ?? project.activeHeadVersionId },
      [image],
    );
  }

  /** `embed` for several images: one encoder batch and one projection, rows in order. */
  private async embedAll(
    project: ProjectModels,
    images: { name: string; bytes: Uint8Array }[],
  ): Promise<{ headVersionId: string; vector: Float32Array; features: Float32Array }> {
    const { encoder, projector, headVersionId } = await this.models(project);
    const raw = await encoder.embedImages(images);
    const features = normaliseRows(stackRows(raw, encoder.dims), encoder.dims);
    const vector = await projector.project(features, images.length);
    return { headVersionId, vector, features };
  }

  /** The project's encoder and active head, or why it has none to classify with. */
  private async models(project: ProjectModels) {
    if (!project.encoderVersionId) {
      throw new AppError(
        'CONFLICT',
        'this project has no encoder yet: train one (trainEncoder), then run a round',
      );
    }
    if (!project.activeHeadVersionId) {
      // A new project, or one that just switched encoders (its old heads were retired).
      throw new AppError(
        'CONFLICT',
        'this project has no trained model on its current encoder yet: run a round first',
      );
    }
    const [encoder, projector] = await Promise.all([
      this.deps.encoders.get(project.encoderVersionId),
      this.deps.projectors.get(project.activeHeadVersionId),
    ]);
    return { encoder, projector, headVersionId: project.activeHeadVersionId };
  }

  async classify(
    project: ProjectModels,
    image: { name: string; bytes: Uint8Array },
    k: number,
  ): Promise<Classification> {
    return (await this.classifyBatch(project, [image], k))[0]!;
  }

  /**
   * Classifications of several images, in order: one encoder batch, one projection and one
   * search over the references for all of them, run as one chain (runSteps: one hand-off to
   * the inference thread, not one per model). The caller bounds how many.
   */
  async classifyBatch(
    project: ProjectModels,
    images: { name: string; bytes: Uint8Array }[],
    k: number,
  ): Promise<Classification[]> {
    if (!Number.isInteger(k) || k < 1 || k > MAX_CLASSIFY_K) {
      throw new AppError('BAD_USER_INPUT', `k must be 1..${MAX_CLASSIFY_K} (got ${k})`);
    }
    if (images.length === 0) return [];
    // Looked up while the images are embedded; held (users + 1) until the answers are built.
    const held = project.activeHeadVersionId
      ? this.scorer(project.id, project.activeHeadVersionId)
      : Promise.resolve(null);
    let prepared: Awaited<ReturnType<Classifier['models']>> & { pixels: Float32Array[] };
    try {
      const models = await this.models(project);
      // Decoded here, each image on its own: a bad one is refused by name.
      const pixels = await Promise.all(images.map((image) => models.encoder.preprocess(image)));
      prepared = { ...models, pixels };
    } catch (error) {
      void held.then(
        (c) => c && this.done(c.cached),
        () => undefined,
      );
      throw error;
    }
    const { cached, classes } = (await held)!;
    try {
      const { set, scorer, backboneAnomaly } = cached;
      const { encoder, projector, pixels, headVersionId } = prepared;
      const n = pixels.length;
      const features: StepOutput = { step: 0, output: encoder.outputName, normalise: true };
      const vectors: StepOutput = { step: 1, output: projector.outputName, normalise: true };
      const scoring = await scorer.scoreSteps(n, vectors, backboneAnomaly ? features : vectors, k);
      const outputs = await runSteps([
        encoder.embedStep(stackRows(pixels, pixels[0]!.length), n),
        projector.projectStep(features),
        ...scoring.steps,
      ]);
      const scores = scoring.scores(outputs.slice(2));
      const classIds = set.classes.map((c) => c.id);
      return scores.map((score) => ({
        headVersionId,
        vote: score.vote,
        classIds,
        classes,
        anomalyScore: score.anomalyScore,
        neighbors: score.neighbours.map(({ index, distance }) => {
          const row = set.rows[index]!;
          return {
            itemId: row.itemId,
            distance,
            split: row.split,
            labelClassId: row.labelClassId,
            labelSource: row.labelSource,
          };
        }),
      }));
    } finally {
      this.done(cached);
    }
  }

  /** Scorers built and not yet released (for tests and diagnostics). */
  get liveScorers(): number {
    return this.live;
  }

  private done(cached: CachedScorer): void {
    cached.users--;
    if (cached.replaced && cached.users === 0) this.release(cached);
  }

  /** Releases a scorer nothing will hand out again, once the requests holding it are done. */
  private retire(cached: CachedScorer): void {
    if (cached.replaced) return;
    cached.replaced = true;
    if (cached.users === 0) this.release(cached);
  }

  private release(cached: CachedScorer): void {
    this.live--;
    void cached.scorer.release().catch(() => undefined);
  }

  /** The head's scorer, held for the caller, and the project's classes as read to key it. */
  private async scorer(
    projectId: string,
    headVersionId: string,
  ): Promise<{ cached: CachedScorer; classes: LabelClass[] }> {
    const { db, reads } = this.deps;
    const [version, classes] = await Promise.all([
      reads ? reads.labelVersion(projectId) : db.labels.version(projectId),
      reads ? reads.classesOf(projectId) : db.classes.ofProject(projectId),
    ]);
    const key = `${version}:${classes.map((c) => (c.isNormal ? 1 : 0)).join('')}`;
    let entry = this.scorers.get(headVersionId);
    if (entry) {
      // Most recently used last, so the least recently used head is evicted first.
      this.scorers.delete(headVersionId);
      this.scorers.set(headVersionId, entry);
    } else {
      entry = { current: this.build(projectId, headVersionId, key), next: null };
      const created = entry;
      created.current.catch(() => {
        if (this.scorers.get(headVersionId) === created) this.scorers.delete(headVersionId);
      });
      this.scorers.set(headVersionId, created);
      this.evict();
    }
    const current = await entry.current;
    // Replaced (or evicted) while this request waited: look again, never use a released one.
    if (current.replaced) return this.scorer(projectId, headVersionId);
    current.users++;
    if (
      current.key !== key &&
      !entry.next &&
      Date.now() - current.builtAt >= (this.options.rebuildIntervalMs ?? REBUILD_INTERVAL_MS)
    ) {
      const building = entry;
      const next = this.build(projectId, headVersionId, key);
      building.next = next;
      next.then(
        () => {
          building.current = next;
          building.next = null;
          this.retire(current);
        },
        () => (building.next = null),
      );
    }
    return { cached: current, classes };
  }

  /** Keeps the scorers of the MAX_HEADS most recently used heads. */
  private evict(): void {
    while (this.scorers.size > MAX_HEADS) {
      const [oldest, entry] = this.scorers.entries().next().value!;
      this.scorers.delete(oldest);
      for (const p of new Set([entry.current, entry.next])) {
        p?.then(
          (c) => this.retire(c),
          () => undefined,
        );
      }
    }
  }

  private async build(projectId: string, headVersionId: string, key: string) {
    const [set, head, project] = await Promise.all([
      loadReferences(this.deps.db, { headVersionId, projectId }),
      this.deps.db.heads.get(headVersionId),
      this.deps.db.projects.get(projectId),
    ]);
    const anomaly = await loadAnomalyReferences(this.deps.db, set, head.encoderVersionId);
    // One inference thread: requests run side by side. Searched for the project's k, which
    // most requests use; a larger k (up to MAX_CLASSIFY_K) gets a wider search when first asked.
    const scorer = await scorerFor(
      set,
      {
        k: Math.min(project.k, MAX_CLASSIFY_K),
        maxK: MAX_CLASSIFY_K,
        threads: 1,
        thread: this.options.thread,
      },
      anomaly,
    );
    this.live++;
    return {
      key,
      builtAt: Date.now(),
      set,
      scorer,
      backboneAnomaly: anomaly !== null,
      users: 0,
      replaced: false,
    };
  }

  async close(): Promise<void> {
    const all = new Set([...this.scorers.values()].flatMap((e) => [e.current, e.next]));
    this.scorers.clear();
    for (const s of await Promise.allSettled([...all].filter((p) => p !== null))) {
      if (s.status === 'fulfilled' && !s.value.replaced) {
        s.value.replaced = true;
        this.live--;
        await s.value.scorer.release().catch(() => undefined);
      }
    }
  }
}
