import { heartbeat } from '@temporalio/activity';
import { scorePool } from '@beanstalk/model-runtime';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';
import { resumePoint } from './heartbeats.ts';

/** Scores the unlabeled pool with the active head: the round's first step. */
export function createScoringActivities({ db }: ActivityDeps) {
  return {
    /**
     * Every unlabeled pool item's kNN vote and anomaly score under the head, stored as its
     * prediction. A retry resumes after the last page its heartbeat reported.
     */
    scorePool(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      pageSize?: number;
    }): Promise<number> {
      return surfacing(() =>
        scorePool(
          db,
          { ...input, resume: resumePoint<{ after: string; scored: number }>() },
          (progress) => heartbeat(progress),
        ),
      );
    },
  };
}
