import type { EncoderCache } from '@beanstalk/activities';
import {
  knn,
  readVectorPage,
  VECTOR_DIMS,
  type Neighbor,
  type Project,
  type Pool,
  type PrismaClient,
} from '@beanstalk/db';
import {
  anomalyCalibration,
  anomalyDistance,
  deserializeHead,
  nearestNeighbours,
  project,
  stackRows,
  vote,
  type HeadWeights,
  type Vote,
} from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';

/** Normal neighbours averaged into the anomaly distance (as the round's scoring does). */
const ANOMALY_K = 5;
/** Labeled normal references used to calibrate anomaly scores; enough for a stable rank. */
const CALIBRATION_SAMPLE = 1000;
/** Calibration follows new labels within this long. */
const CALIBRATION_TTL_MS = 60_000;

/** The parts of a project row that say which models answer for it. */
type ProjectModels = Pick<Project, 'id' | 'activeHeadVersionId' | 'encoderVersionId'>;

export interface Classification {
  headVersionId: string;
  vote: Vote;
  /** Class ids by position, matching vote.probabilities. */
  classIds: string[];
  anomalyScore: number;
  neighbors: Neighbor[];
}

/**
 * Classifies images the way the platform's index does: encoder, the active head, one kNN
 * query over labeled items in pgvector, then the distance-weighted vote. Heads are immutable
 * per version, so they are cached for the process's life.
 */
export class Classifier {
  private readonly heads = new Map<string, Promise<HeadWeights>>();
  private readonly calibrations = new Map<
    string,
    { at: number; calibrate: Promise<(d: number) => number> }
  >();

  constructor(
    private readonly deps: { prisma: PrismaClient; pool: Pool; encoders: EncoderCache },
  ) {}

  /** The project's active head and its projection of an image (an L2-normalised vector). */
  async embed(
    project_: ProjectModels,
    image: { name: string; bytes: Uint8Array },
  ): Promise<{ headVersionId: string; vector: Float32Array }> {
    if (!project_.activeHeadVersionId || !project_.encoderVersionId) {
      throw new AppError(
        'CONFLICT',
        'this project has no trained model yet: import images and run a round first',
      );
    }
    const [encoder, head] = await Promise.all([
      this.deps.encoders.get(project_.encoderVersionId),
      this.head(project_.activeHeadVersionId),
    ]);
    const [features] = await encoder.embedImages([image]);
    return { headVersionId: project_.activeHeadVersionId, vector: project(head, features!, 1) };
  }

  async classify(
    project_: ProjectModels,
    image: { name: string; bytes: Uint8Array },
    k: number,
  ): Promise<Classification> {
    // The class list is read while the encoder runs.
    const classesRead = this.deps.pool
      .query<{ id: string; isNormal: boolean }>(
        'SELECT id, is_normal AS "isNormal" FROM label_classes WHERE project_id = $1 ORDER BY position',
        [project_.id],
      )
      .then((r) => r.rows);
    const { headVersionId, vector } = await this.embed(project_, image);
    const [neighbors, classes] = await Promise.all([
      knn(this.deps.pool, {
        projectId: project_.id,
        headVersionId,
        embedding: vector,
        k,
        filter: { labeled: true },
      }),
      classesRead,
    ]);
    const indexOf = new Map(classes.map((c, i) => [c.id, i]));
    const references = neighbors.map((n) => ({
      classIndex: indexOf.get(n.labelClassId!)!,
      distance: n.distance,
    }));
    const normal = references.filter((r) => classes[r.classIndex]!.isNormal);
    const calibrate = await this.calibration(project_.id, headVersionId, classes);
    return {
      headVersionId,
      vote: vote(references, classes.length),
      classIds: classes.map((c) => c.id),
      anomalyScore: calibrate(anomalyDistance(normal, ANOMALY_K)),
      neighbors,
    };
  }

  private head(headVersionId: string): Promise<HeadWeights> {
    let head = this.heads.get(headVersionId);
    if (!head) {
      head = this.deps.prisma.headVersion
        .findUniqueOrThrow({ where: { id: headVersionId } })
        .then((h) =>
          deserializeHead(
            h.weights,
            (h.config as { shapes: number[][] }).shapes,
            h.kind === 'LINEAR' ? 'linear' : 'mlp',
          ),
        );
      head.catch(() => this.heads.delete(headVersionId));
      this.heads.set(headVersionId, head);
    }
    return head;
  }

  /**
   * Rank of a raw anomaly distance among labeled normal items' own (leave-one-out) distances.
   * Recomputed in the background once it is older than the TTL; requests use the last one
   * meanwhile, so no request waits for a recomputation except the first per head.
   */
  private async calibration(
    projectId: string,
    headVersionId: string,
    classes: { id: string; isNormal: boolean }[],
  ): Promise<(d: number) => number> {
    const key = `${projectId}:${headVersionId}`;
    const cached = this.calibrations.get(key);
    if (cached && Date.now() - cached.at < CALIBRATION_TTL_MS) return cached.calibrate;
    const fresh = this.computeCalibration(headVersionId, classes);
    fresh.catch(() => this.calibrations.delete(key));
    if (cached) {
      // Serve the previous one until the new one is ready.
      cached.at = Date.now();
      void fresh.then(
        (calibrate) =>
          this.calibrations.set(key, { at: Date.now(), calibrate: Promise.resolve(calibrate) }),
        () => undefined,
      );
      return cached.calibrate;
    }
    this.calibrations.set(key, { at: Date.now(), calibrate: fresh });
    return fresh;
  }

  private async computeCalibration(
    headVersionId: string,
    classes: { id: string; isNormal: boolean }[],
  ): Promise<(d: number) => number> {
    const normalIds = new Set(classes.filter((c) => c.isNormal).map((c) => c.id));
    const rows = await readVectorPage(this.deps.pool, {
      headVersionId,
      splits: ['POOL'],
      labeled: true,
    });
    const normal = rows.filter((r) => normalIds.has(r.labelClassId!)).slice(0, CALIBRATION_SAMPLE);
    if (normal.length <= ANOMALY_K) return anomalyCalibration([]);
    const matrix = stackRows(
      normal.map((r) => r.vector),
      VECTOR_DIMS,
    );
    const { distance } = nearestNeighbours(matrix, matrix, VECTOR_DIMS, ANOMALY_K + 1);
    const per = ANOMALY_K + 1;
    return anomalyCalibration(
      normal.map((_, q) =>
        anomalyDistance(
          Array.from(distance.subarray(q * per + 1, (q + 1) * per), (d) => ({
            classIndex: 0,
            distance: d,
          })),
          ANOMALY_K,
        ),
      ),
    );
  }
}
