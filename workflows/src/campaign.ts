import {
  CancellationScope,
  continueAsNew,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrchestrationActivities } from '@beanstalk/activities';
import {
  campaignProgress,
  type CampaignInput,
  type CampaignProgress,
  type CampaignResult,
} from './definitions.ts';
import { activeLearningRound } from './round.ts';
import { emitWebhookEvent } from './webhooks.ts';

// Bounded by time, not attempts (see round.ts); closing a campaign keeps trying for a week.
const RETRY = { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 };
const db = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: RETRY,
});
const closing = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '7 days',
  retry: { ...RETRY, maximumInterval: '5 minutes' },
});

/**
 * Runs rounds for a project until the label budget is spent, the target macro-F1 is reached,
 * `maxRounds` have run, or it is cancelled. Each round is a child workflow; the campaign
 * continues as new after every round so its history stays small. One running campaign per
 * project: a second one is refused (the client numbers campaigns per project, and the first
 * activity refuses while another is running).
 */
export async function campaign(input: CampaignInput): Promise<CampaignResult> {
  const history = input.history ?? [];
  const progress: CampaignProgress = {
    campaignId: input.campaignId ?? null,
    roundsDone: history.length,
    currentRoundWorkflowId: null,
    stopReason: null,
    history,
  };
  setHandler(campaignProgress, () => progress);
  const campaignId =
    input.campaignId ??
    (await db.openCampaign({ projectId: input.projectId, workflowId: workflowInfo().workflowId }));
  progress.campaignId = campaignId;
  const finished = (status: 'COMPLETED' | 'CANCELLED' | 'FAILED', reason: string) =>
    emitWebhookEvent({
      projectId: input.projectId,
      event: 'CAMPAIGN_FINISHED',
      key: `campaign-finished:${campaignId}`,
      payload: { campaign: { id: campaignId, status, rounds: history.length, reason, history } },
    });
  const finish = async (reason: string): Promise<CampaignResult> => {
    progress.stopReason = reason;
    await closing.closeCampaign({ campaignId, status: 'COMPLETED', reason });
    await finished('COMPLETED', reason);
    return { campaignId, rounds: history.length, stopReason: reason };
  };
  try {
    const state = await db.campaignState({ projectId: input.projectId });
    const last = history.at(-1);
    if (state.budgetLeft <= 0) return await finish('label budget spent');
    if (state.targetMacroF1 !== null && (state.macroF1 ?? 0) >= state.targetMacroF1) {
      return await finish(`target macro-F1 ${state.targetMacroF1} reached`);
    }
    if (input.maxRounds !== undefined && history.length >= input.maxRounds) {
      return await finish(`${input.maxRounds} rounds done`);
    }
    if (last && last.asked === 0) return await finish('no unlabeled items left to ask about');
    progress.currentRoundWorkflowId = `${workflowInfo().workflowId}-round-${history.length + 1}`;
    const result = await executeChild(activeLearningRound, {
      workflowId: progress.currentRoundWorkflowId,
      args: [
        {
          projectId: input.projectId,
          campaignId,
          gpuTaskQueue: input.gpuTaskQueue,
          strategy: input.strategy,
          seed: input.seed,
          labelingTimeoutMs: input.labelingTimeoutMs,
          leaseCheckIntervalMs: input.leaseCheckIntervalMs,
          retryWindowMs: input.retryWindowMs,
        },
      ],
    });
    history.push({
      round: result.number,
      macroF1: result.macroF1,
      asked: result.asked,
      autoAccepted: result.autoAccepted,
    });
  } catch (error) {
    const cancelled = isCancellation(error);
    const status = cancelled ? 'CANCELLED' : 'FAILED';
    const reason = cancelled ? 'cancelled' : (error as Error).message;
    await CancellationScope.nonCancellable(async () => {
      await closing.closeCampaign({ campaignId, status, reason });
      await finished(status, reason);
    });
    throw error;
  }
  return continueAsNew<typeof campaign>({ ...input, campaignId, history });
}
