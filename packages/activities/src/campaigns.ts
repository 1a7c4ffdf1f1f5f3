import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

/** A campaign's row and the facts its stop rules read between rounds. */
export function createCampaignActivities({ db }: ActivityDeps) {
  return {
    /** Registers a campaign; refused while another campaign of the project is running. */
    openCampaign(input: { projectId: string; workflowId: string }): Promise<string> {
      return surfacing(async () => (await db.rounds.openCampaign(input)).id);
    },

    /** Budget left and the latest eval macro-F1 of the active head, for the stop rules. */
    async campaignState(input: { projectId: string }): Promise<{
      budgetLeft: number;
      macroF1: number | null;
      targetMacroF1: number | null;
    }> {
      const project = await db.projects.get(input.projectId);
      const budget = await db.budget.of(project.id);
      const latest = project.activeHeadVersionId
        ? await db.metrics.latestOfHead(project.activeHeadVersionId)
        : null;
      return {
        budgetLeft: budget.remaining,
        macroF1: latest?.macroF1 ?? null,
        targetMacroF1: project.targetMacroF1,
      };
    },

    closeCampaign(input: {
      campaignId: string;
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED';
      reason: string;
    }): Promise<void> {
      return db.rounds.closeCampaign(input.campaignId, input);
    },
  };
}
