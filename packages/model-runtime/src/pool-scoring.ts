import { VECTOR_DIMS, type Database } from '@beanstalk/db';
import { stackRows } from '@beanstalk/ml';
import { pipelinePages } from './pages.ts';
import { loadReferences, scorerFor } from './references.ts';

export interface PoolScoringProgress {
  /** The last item scored: a retry continues after it. */
  after: string;
  scored: number;
  total: number;
}

/**
 * Scores every unlabeled pool item of a head's vector set with the Scorer (kNN vote against
 * the labeled references and the calibrated anomaly score) and stores the predictions keyed
 * by (head, item). Pages in item-id order; `onPage` runs after each page is stored.
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
  const scorer = await scorerFor(set, { k: input.k });
  try {
    await pipelinePages(input.resume?.after ?? null, {
      read: (after) =>
        db.vectorSets.readPage({
          headVersionId: head.id,
          splits: ['POOL'],
          labeled: false,
          after,
          limit: input.pageSize ?? 5000,
        }),
      compute: (page) =>
        scorer.score(
          stackRows(
            page.map((r) => r.vector),
            VECTOR_DIMS,
          ),
        ),
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
        scored += page.length;
        onPage({ after: page.at(-1)!.itemId, scored, total });
      },
    });
  } finally {
    await scorer.release();
  }
  return scored;
}
