import { VECTOR_DIMS } from '@beanstalk/db';
import { planAutoAccept, stackRows } from '@beanstalk/ml';
import { loadReferences, onlySources, scorerFor } from '@beanstalk/model-runtime';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

/** Labels confident predictions automatically, where people's labels say it is safe. */
export function createAutoAcceptActivities({ db }: ActivityDeps) {
  return {
    /**
     * Auto labels for the head's confident pool predictions: every unlabeled one above the
     * threshold planAutoAccept finds (measured on the labeled eval items, which the head never
     * trains on: the lower bound of their precision meets the target). Auto labels carry round
     * and confidence and go only to unlabeled items. Once per round: a retry reports what the
     * first run did.
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
        const indexOf = new Map(human.classes.map((c, i) => [c.id, i]));
        const held = (
          await db.vectorSets.readPage({
            headVersionId: input.headVersionId,
            splits: ['EVAL'],
            labeled: true,
          })
        ).filter((r) => r.labelClassId && r.labelSource !== 'AUTO' && indexOf.has(r.labelClassId));
        const scorer = await scorerFor(human, { k: input.k });
        const plan = await planAutoAccept({
          human: scorer,
          calibration: {
            vectors: stackRows(
              held.map((r) => r.vector),
              VECTOR_DIMS,
            ),
            labels: held.map((r) => indexOf.get(r.labelClassId!)!),
          },
          precisionTarget: input.precisionTarget,
        }).finally(() => scorer.release());
        if (plan.threshold === null) return { threshold: null, accepted: 0, reason: plan.reason };
        const accepted = await db.labels.acceptPredictions({
          roundId: round.id,
          headVersionId: input.headVersionId,
          threshold: plan.threshold,
          precisionTarget: input.precisionTarget,
        });
        await db.rounds.recordAutoAccept(round.id, {
          accepted,
          threshold: plan.threshold,
          lowerBound: plan.lowerBound,
        });
        return { threshold: plan.threshold, accepted, reason: plan.reason };
      });
    },
  };
}
