import type { TaskCounts } from '@beanstalk/db';
import type { Strategy } from '@beanstalk/ml';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';
import { strategyOf } from './selection.ts';

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
  /** The project's selection strategy (a round started with one of its own uses that). */
  selectionStrategy: Strategy;
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
          selectionStrategy: strategyOf(project.selectionStrategy),
        };
      });
    },

    setRoundStatus(input: { roundId: string; status: ActiveStatus }): Promise<void> {
      return db.rounds.setStatus(input.roundId, input.status);
    },

    /**
     * Ends a round (db.rounds.close): unfinished tasks expire, releasing their budget; a round
     * that did not complete leaves no unpromoted head or half-built vector set behind.
     */
    closeRound(input: {
      roundId: string;
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED';
      note?: string;
    }): Promise<TaskCounts> {
      return db.rounds.close(input.roundId, { status: input.status, note: input.note });
    },
  };
}
