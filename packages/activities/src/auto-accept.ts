import { heartbeat } from '@temporalio/activity';
import { VECTOR_DIMS } from '@beanstalk/db';
import { planAutoAccept, stackRows } from '@beanstalk/ml';
import { loadReferences, onlySources, scorerFor } from '@beanstalk/model-runtime';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

/** Pool items voted on per page while auto-accepting. */
const PAGE = 5000;

/** Labels confident predictions automatically, where people's labels say it is safe. */
export function createAutoAcceptActivities({ db }: ActivityDeps) {
  return {
    /**
     * Auto labels for the pool items the human references vote on confidently: planAutoAccept
     * finds the threshold on labeled eval items (which the head never trains on), and the pool
     * is voted on by the same references, so the bound speaks for exactly what is accepted.
     * Eval items voted on at or above the threshold are then set aside from calibration
     * (`calibration_spent`), as the pool items like them are now labeled: a later round's
     * bound is measured on eval items like the pool left. Auto labels carry round and
     * confidence and go only to unlabeled items. Once per round: a retry after it finished
     * reports what it did; one after it died part way finishes it.
     */
    autoAccept(input: {
      roundId: string;
      headVersionId: string;
      k: number;
      precisionTarget: number;
    }): Promise<{ threshold: number | null; accepted: number; reason: string }> {
      return surfacing(async () => {
        const round = await db.rounds.get(input.roundId);
        if (round.autoThreshold !== null) {
          return {
            threshold: round.autoThreshold,
            accepted: round.autoAccepted,
            reason: 'already done',
          };
        }
        const all = await loadReferences(db, {
          headVersionId: input.headVersionId,
          projectId: round.projectId,
        });
        const human = onlySources(all, ['HUMAN', 'IMPORT', 'GOLD']);
        const indexOf = new Map(human.classes.map((c, i) => [c.id, i]));
        const [evalRows, spent] = await Promise.all([
          db.vectorSets.readPage({ headVersionId: input.headVersionId, splits: ['EVAL'] }),
          db.rounds.spentCalibration(round.projectId),
        ]);
        const held = evalRows.filter(
          (r) =>
            r.labelClassId &&
            r.labelSource !== 'AUTO' &&
            indexOf.has(r.labelClassId) &&
            !spent.has(r.itemId),
        );
        const scorer = await scorerFor(human, { k: input.k });
        try {
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
          });
          if (plan.threshold === null) {
            return { threshold: null, accepted: 0, reason: plan.reason };
          }
          const threshold = plan.threshold;
          let after: string | null = null;
          for (;;) {
            const page = await db.vectorSets.readPage({
              headVersionId: input.headVersionId,
              splits: ['POOL'],
              labeled: false,
              after,
              limit: PAGE,
            });
            if (page.length === 0) break;
            const votes = await scorer.votes(
              stackRows(
                page.map((r) => r.vector),
                VECTOR_DIMS,
              ),
            );
            const sure = page.flatMap((r, i) =>
              votes[i]!.confidence >= threshold
                ? [
                    {
                      itemId: r.itemId,
                      labelClassId: human.classes[votes[i]!.predicted]!.id,
                      confidence: votes[i]!.confidence,
                    },
                  ]
                : [],
            );
            if (sure.length > 0) {
              await db.labels.acceptVotes({
                roundId: round.id,
                threshold,
                precisionTarget: input.precisionTarget,
                votes: sure,
              });
            }
            after = page.at(-1)!.itemId;
            heartbeat({ after });
          }
          const evalVotes = await scorer.votes(
            stackRows(
              evalRows.map((r) => r.vector),
              VECTOR_DIMS,
            ),
          );
          await db.rounds.spendCalibration(
            round.id,
            evalRows.filter((_, i) => evalVotes[i]!.confidence >= threshold).map((r) => r.itemId),
          );
          // Counted at the end: a run that died part way accepted some of them already.
          const accepted = await db.labels.countAutoOfRound(round.id);
          await db.rounds.recordAutoAccept(round.id, {
            accepted,
            threshold,
            lowerBound: plan.lowerBound,
          });
          return { threshold, accepted, reason: plan.reason };
        } finally {
          await scorer.release();
        }
      });
    },
  };
}
