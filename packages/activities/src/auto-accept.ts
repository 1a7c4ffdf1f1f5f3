import { planAutoAccept } from '@beanstalk/ml';
import { loadReferences, onlySources, scorerFor } from '@beanstalk/model-runtime';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

/** Labels confident predictions automatically, where people's labels say it is safe. */
export function createAutoAcceptActivities({ db }: ActivityDeps) {
  return {
    /**
     * Auto labels for the head's most confident pool predictions: the threshold and how many
     * come from planAutoAccept (the precision target on the human labels, each voted on by the
     * others). Auto labels carry round and confidence and go only to unlabeled items. Once per
     * round: a retry reports what the first run did.
     */
    autoAccept(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      precisionTarget: number;
    }): Promise<{ threshold: number | null; accepted: number; reason: string }> {
      return surfacing(async () => {
        const round = await db.rounds.get(input.roundId);
        const already = await db.labels.countAutoOfRound(round.id);
        if (already > 0) {
          return { threshold: round.autoThreshold, accepted: already, reason: 'already done' };
        }
        const all = await loadReferences(db, {
          headVersionId: input.headVersionId,
          projectId: round.projectId,
        });
        const human = onlySources(all, ['HUMAN', 'IMPORT', 'GOLD']);
        const scorer = await scorerFor(human, { k: input.k });
        const plan = await planAutoAccept({
          human: scorer,
          autoLabelsNow: all.rows.length - human.rows.length,
          precisionTarget: input.precisionTarget,
        }).finally(() => scorer.release());
        if (plan.threshold === null) return { threshold: null, accepted: 0, reason: plan.reason };
        const accepted = await db.labels.acceptPredictions({
          roundId: round.id,
          headVersionId: input.headVersionId,
          threshold: plan.threshold,
          limit: plan.limit,
          precisionTarget: input.precisionTarget,
        });
        await db.rounds.recordAutoAccept(round.id, { accepted, threshold: plan.threshold });
        return { threshold: plan.threshold, accepted, reason: plan.reason };
      });
    },
  };
}
