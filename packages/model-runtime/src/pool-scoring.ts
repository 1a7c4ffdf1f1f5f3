import { VECTOR_DIMS, type Database } from '@beanstalk/db';
import { stackRows } from '@beanstalk/ml';
import { pipelinePages } from './pages.ts';
import { loadAnomalyReferences, loadReferences, scorerFor } from './references.ts';

export interface PoolScoringProgress {
  /** The last item scored: a retry continues after it. */
  after: string;
  scored: number;
  total: number;
}

/**
 * Scores every unlabeled pool item of a head's vector set with the Scorer (kNN vote against
 * the labeled references in head space, and the calibrated anomaly score in backbone space)
 * and stores the predictions keyed by (head, item). Pages in item-id order; `onPage` runs
 * after each pool page is stored.
 *
 * GOLD items are scored too, first (they are never references, so their predictions are held
 * out): a gold question then shows the model's guess like any task, and nothing on the screen
 * tells it apart. Nothing selects or accepts them, both read the POOL split only.
 */
export async function scorePool(
  db: Database,
  input: {
    headVersionId: string;
    roundId: string | null;
    k: number;
    pageSize?: number;
    resume?: { after: string; scored: number } | null;
  },
  onPage: (progress: PoolScoringProgress) => void = () => undefined,
): Promise<number> {
  const head = await db.heads.get(input.headVersionId);
  const set = await loadReferences(db, { headVersionId: head.id, projectId: head.projectId });
  if (set.rows.length === 0) return 0;
  const total = await db.vectorSets.countUnlabeledPool(head.id);
  let scored = input.resume?.scored ?? 0;
  const anomaly = await loadAnomalyReferences(db, set, head.encoderVersionId);
  const scorer = await scorerFor(set, { k: input.k }, anomaly);
  const scorePages = (
    after: string | null,
    filter: { splits: ('POOL' | 'GOLD')[]; labeled: boolean },
    onStored: (page: { itemId: string }[]) => void,
  ) =>
    pipelinePages(after, {
      // A page's backbone features are read with it, so both reads overlap the computing.
      read: async (from) => {
        const page = await db.vectorSets.readPage({
          headVersionId: head.id,
          ...filter,
          after: from,
          limit: input.pageSize ?? 5000,
        });
        const features =
          anomaly && page.length
            ? await db.features.of(
                head.encoderVersionId,
                page.map((r) => r.itemId),
              )
            : new Map<string, Float32Array>();
        return page.map((r) => ({ ...r, feature: features.get(r.itemId) }));
      },
      compute: (page) => {
        const vectors = stackRows(
          page.map((r) => r.vector),
          VECTOR_DIMS,
        );
        if (!anomaly) return scorer.score(vectors);
        const backbone = page.map((r) => {
          // A set's rows are made from these features, which are never deleted on their own.
          if (!r.feature) throw new Error(`item ${r.itemId} has no backbone features`);
          return r.feature;
        });
        return scorer.score(vectors, scorer.k, stackRows(backbone, anomaly.dims));
      },
      write: async (page, scores) => {
        await db.predictions.upsert(
          head.id,
          input.roundId,
          page.map((item, j) => {
            const { vote, anomalyScore } = scores[j]!;
            return {
              itemId: item.itemId,
              labelClassId: set.classes[vote.predicted]!.id,
              confidence: vote.confidence,
              margin: vote.margin,
              entropy: vote.entropy,
              anomalyScore,
              probabilities: vote.probabilities,
            };
          }),
        );
        onStored(page);
      },
    });
  try {
    // A retry resumes in the pool pass: the gold pass (a few items) is done by then.
    if (!input.resume) await scorePages(null, { splits: ['GOLD'], labeled: true }, () => {});
    await scorePages(input.resume?.after ?? null, { splits: ['POOL'], labeled: false }, (page) => {
      scored += page.length;
      onPage({ after: page.at(-1)!.itemId, scored, total });
    });
  } finally {
    await scorer.release();
  }
  return scored;
}
