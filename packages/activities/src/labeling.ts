import type { TaskCounts } from '@beanstalk/db';
import type { ActivityDeps } from './deps.ts';

/** While a round waits for people: leases and the round's count of answers. */
export function createLabelingActivities({ db }: ActivityDeps) {
  return {
    /** Expires claimed tasks past their lease; returns the round's task counts. */
    async checkTasks(input: { roundId: string }): Promise<TaskCounts & { expiredNow: number }> {
      const expiredNow = await db.tasks.expire(input.roundId);
      const counts = await db.tasks.counts(input.roundId);
      await db.rounds.recordLabelsReceived(input.roundId, counts.done);
      return { ...counts, expiredNow };
    },

    /** Ends the labeling phase: tasks still open or claimed expire, releasing their budget. */
    expireUnfinishedTasks(input: { roundId: string }): Promise<number> {
      return db.tasks.expire(input.roundId, { allOpen: true });
    },
  };
}
