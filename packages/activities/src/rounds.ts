import type { TaskCounts } from '@beanstalk/db';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

export interface RoundSettings {
  roundId: string;
  number: number;
  projectId: string;
  activeHeadVersionId: string | null;
  roundSize: number;
  k: number;
  autoAcceptEnabled: boolean;
  autoAcceptPrecisionTarget: number;
  promotionTolerance: number;
  taskLeaseSeconds: number;
  targetMacroF1: number | null;
}

type ActiveStatus = 'SCORING' | 'SELECTING' | 'LABELING' | 'TRAINING' | 'REINDEXING' | 'EVALUATING';

/** A round's row: opened with the project's settings of the moment, moved along, closed. */
export function createRoundActivities({ db }: ActivityDeps) {
  return {
    /** Creates the round row for a workflow, or returns it when the workflow retries. */
    openRound(input: {
      projectId: string;
      workflowId: string;
      campaignId?: string | null;
    }): Promise<RoundSettings> {
      return surfacing(async () => {
        const project = await db.projects.get(input.projectId);
        const round = await db.rounds.open(input);
        return {
          roundId: round.id,
          number: round.number,
          projectId: project.id,
          activeHeadVersionId: project.activeHeadVersionId,
          roundSize: project.roundSize,
          k: project.k,
          autoAcceptEnabled: project.autoAcceptEnabled,
          autoAcceptPrecisionTarget: project.autoAcceptPrecisionTarget,
          promotionTolerance: project.promotionTolerance,
          taskLeaseSeconds: project.taskLeaseSeconds,
          targetMacroF1: project.targetMacroF1,
        };
      });
    },

    setRoundStatus(input: { roundId: string; status: ActiveStatus }): Promise<void> {
      return db.rounds.setStatus(input.roundId, input.status);
    },

    /**
     * Ends a round: unfinished tasks expire (budget released, items back in the pool); when
     * cancelled or failed, a trained but not promoted head is retired and its vector set
     * dropped, so nothing is left half-built.
     */
    async closeRound(input: {
      roundId: string;
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED';
      note?: string;
    }): Promise<TaskCounts> {
      const expired = await db.tasks.expire(input.roundId, { allOpen: true });
      const round = await db.rounds.get(input.roundId);
      const head = await db.heads.byRound(round.id);
      if (input.status !== 'COMPLETED' && head) {
        const project = await db.projects.get(round.projectId);
        if (project.activeHeadVersionId !== head.id) {
          await db.vectorSets.drop(head.id);
          await db.heads.retire(head.id, `round ${input.status.toLowerCase()}`);
        }
      }
      const counts = await db.tasks.counts(input.roundId);
      await db.rounds.finish(input.roundId, {
        status: input.status,
        labelsReceived: counts.done,
        note:
          [input.note, expired ? `${expired} unfinished tasks expired` : null]
            .filter(Boolean)
            .join('; ') || null,
      });
      return counts;
    },
  };
}
