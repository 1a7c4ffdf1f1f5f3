import { heartbeat } from '@temporalio/activity';
import { VECTOR_DIMS } from '@beanstalk/db';
import { HeadProjector, stackRows } from '@beanstalk/ml';
import { catchUpVectorSet, headWeights, pipelinePages } from '@beanstalk/model-runtime';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';
import { heartbeatingThrough, resumePoint } from './heartbeats.ts';

/** Builds a head's vector set (gpu queue). */
export function createReindexActivities({ db }: ActivityDeps) {
  return {
    /**
     * Projects every item's stored features with a head into a new vector set and publishes it
     * (not yet active: promotion swaps it in; its HNSW index comes after that, in
     * indexHeadForSearch on the orchestration queue), then adds the items embedded meanwhile. Resumes after the last page
     * it reported; a published set is left as it is.
     */
    reindexHead(input: { headVersionId: string; pageSize?: number }): Promise<number> {
      return surfacing(async () => {
        const head = await db.heads.get(input.headVersionId);
        const state = await db.vectorSets.state(head.id);
        if (state === 'published') return db.vectorSets.count(head.id);
        const resume = resumePoint<{ after: string; written: number }>();
        let after: string | null = null;
        let written = 0;
        if (state === 'building' && resume) {
          ({ after, written } = resume);
          await db.vectorSets.truncateAfter(head.id, after);
        } else {
          await db.vectorSets.create(head.id);
        }
        const projector = await HeadProjector.create(headWeights(head));
        const total = await db.features.count(head.encoderVersionId, head.projectId);
        const started = Date.now();
        try {
          await pipelinePages(after, {
            read: (from) =>
              db.features.readPage({
                projectId: head.projectId,
                encoderVersionId: head.encoderVersionId,
                after: from,
                limit: input.pageSize ?? 5000,
              }),
            compute: (page) =>
              projector.project(
                stackRows(
                  page.map((r) => r.vector),
                  head.inputDims,
                ),
                page.length,
              ),
            write: async (page, projected) => {
              written += await db.vectorSets.append(
                head.id,
                page.map((r, j) => ({
                  ...r,
                  embedding: projected.subarray(j * VECTOR_DIMS, (j + 1) * VECTOR_DIMS),
                })),
              );
              after = page.at(-1)!.itemId;
              heartbeat({ after, written, total });
            },
          });
        } finally {
          await projector.release();
        }
        const wroteAt = Date.now();
        await heartbeatingThrough({ after, written, total, phase: 'index' }, () =>
          db.vectorSets.publish(head.id),
        );
        written += await catchUpVectorSet(db, head.id);
        console.log(
          `reindex head ${head.id}: ${written} vectors written in ${(wroteAt - started) / 1000} s, ` +
            `published in ${(Date.now() - wroteAt) / 1000} s`,
        );
        return written;
      });
    },
  };
}
