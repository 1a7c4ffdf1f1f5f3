import { selectForLabeling, type Strategy } from '@beanstalk/ml';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

/** Chooses what people are asked to label. */
export function createSelectionActivities({ db }: ActivityDeps) {
  return {
    /**
     * Opens up to `count` tasks, never more than the budget left: with a head, the least
     * certain predictions chosen by `strategy` (seeded by the round number); without one (cold
     * start), or for `random`, a sample keyed by image content and round number. A retry
     * returns what the round already opened.
     */
    openTasks(input: {
      roundId: string;
      headVersionId: string | null;
      count: number;
      strategy: Strategy;
    }): Promise<{ asked: number; budgetLeft: number }> {
      return surfacing(async () => {
        const round = await db.rounds.get(input.roundId);
        return db.tasks.openForRound({
          roundId: round.id,
          headVersionId: input.headVersionId,
          count: input.count,
          choose:
            input.strategy === 'random'
              ? undefined
              : (candidates, take) =>
                  selectForLabeling(candidates, take, input.strategy, {
                    seed: round.number,
                    embeddings: candidates.map((c) => c.embedding),
                  }).map((i) => candidates[i]!.itemId),
        });
      });
    },
  };
}
