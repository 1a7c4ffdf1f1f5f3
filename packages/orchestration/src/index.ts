// Client-side entry points to the workflows, for the API, the CLI and tests: workflow ids,
// start options and the signal a label submission sends. Nothing here runs inside a workflow.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Database, LabelTask, SubmittedLabel, TaskSubmission } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';
import { DEFAULT_QUEUES, type Queues } from './queues.ts';
import { reapStrandedWork, workflowRunning } from './reaper.ts';
import { runningActivity, type RunningActivity } from './running-activity.ts';
import {
  activeLearningRound,
  campaign,
  ingest,
  ingestProgress,
  labelSubmitted,
  roundProgress,
  type CampaignInput,
  type IngestProgress,
  type RoundProgress,
  type RoundInput,
} from '@beanstalk/workflows';

/** A project's n-th campaign; its rounds are `<campaign id>-round-<k>`. */
export const campaignWorkflowId = (projectId: string, n: number) => `campaign-${projectId}-${n}`;
/** How long a label submission waits to wake its round before leaving it to the next check. */
const SIGNAL_DEADLINE_MS = 1000;

export const ingestWorkflowId = (projectId: string) => `ingest-${projectId}`;

export { DEFAULT_QUEUES, type Queues } from './queues.ts';

/**
 * Starts a project's next campaign; refused with CONFLICT while one runs. The campaign is
 * registered before its workflow starts (the database allows one running campaign per
 * project, so two starts at once cannot both get one), and campaigns are numbered per
 * project, so each has workflow ids of its own for itself and its rounds.
 */
export async function startCampaign(
  deps: { db: Database; client: Client },
  input: Omit<CampaignInput, 'gpuTaskQueue' | 'campaignId' | 'history'>,
  queues: Queues = DEFAULT_QUEUES,
) {
  const running = await deps.db.rounds.runningCampaign(input.projectId);
  if (running && (await workflowRunning(deps.client, running.workflowId)) !== 'ended') {
    throw new AppError(
      'CONFLICT',
      `project ${input.projectId} already has a campaign running (${running.workflowId}); cancel it or wait for it to end`,
    );
  }
  // One left behind by a workflow that is gone is closed first.
  if (running) await reapStrandedWork(deps);
  const n = (await deps.db.rounds.countCampaigns(input.projectId)) + 1;
  const workflowId = campaignWorkflowId(input.projectId, n);
  const registered = await deps.db.rounds.openCampaign({ projectId: input.projectId, workflowId });
  try {
    return await deps.client.workflow.start(campaign, {
      taskQueue: queues.orchestration,
      workflowId,
      args: [{ ...input, campaignId: registered.id, gpuTaskQueue: queues.gpu }],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      // A start at the same moment took this number and runs it.
      throw new AppError('CONFLICT', `project ${input.projectId} already has a campaign running`);
    }
    await deps.db.rounds.closeCampaign(registered.id, {
      status: 'FAILED',
      reason: `its workflow could not start: ${(error as Error).message}`,
    });
    throw error;
  }
}

/** Asks a project's running campaign to stop; NOT_FOUND when none runs. */
export async function cancelCampaign(
  deps: { db: Database; client: Client },
  projectId: string,
): Promise<void> {
  const running = await deps.db.rounds.runningCampaign(projectId);
  if (!running) throw new AppError('NOT_FOUND', `project ${projectId} has no campaign running`);
  try {
    await deps.client.workflow.getHandle(running.workflowId).cancel();
  } catch (error) {
    if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
    // Its workflow is gone: the reaper closes what it left.
    throw new AppError('NOT_FOUND', `campaign ${running.workflowId} is no longer running`);
  }
}

/** Starts one round outside a campaign (workflow id `round-<project>-<suffix>`). */
export async function startRound(
  client: Client,
  input: Omit<RoundInput, 'gpuTaskQueue'>,
  suffix: string,
  queues: Queues = DEFAULT_QUEUES,
) {
  return client.workflow.start(activeLearningRound, {
    taskQueue: queues.orchestration,
    workflowId: `round-${input.projectId}-${suffix}`,
    args: [{ ...input, gpuTaskQueue: queues.gpu }],
  });
}

/** Embeds a project's new items (one ingest at a time per project). */
export async function startIngest(
  client: Client,
  projectId: string,
  queues: Queues = DEFAULT_QUEUES,
) {
  return client.workflow.start(ingest, {
    taskQueue: queues.orchestration,
    workflowId: ingestWorkflowId(projectId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ projectId, gpuTaskQueue: queues.gpu }],
  });
}

/**
 * Wakes a round's workflow after one of its tasks changed. Best effort: the change is already
 * stored, and a round that is not woken (Temporal unreachable, the round ended) sees it at its
 * next task check, so a failed signal is logged, not thrown.
 */
async function wakeRound(
  temporal: () => Promise<Client>,
  workflowId: string | null,
  taskId: string,
): Promise<void> {
  if (!workflowId) return;
  try {
    const client = await temporal();
    // Not a person's wait: with Temporal away the signal gives up quickly.
    await client.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
      client.workflow.getHandle(workflowId).signal(labelSubmitted, taskId),
    );
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return;
    console.warn(`round ${workflowId} not woken for task ${taskId}: ${(error as Error).message}`);
  }
}

/**
 * The label-submission path the API uses: one transaction stores the label (and the extra
 * items' labels, within the budget), then the round's workflow is woken. The label is
 * durable before the signal; a lost signal only delays the round until its next task check.
 */
export async function submitLabel(
  deps: { db: Database; temporal: () => Promise<Client> },
  submission: TaskSubmission,
): Promise<SubmittedLabel> {
  const stored = await deps.db.tasks.submit(submission);
  await wakeRound(deps.temporal, stored.workflowId, submission.taskId);
  return stored;
}

/** Gives a task back unanswered (its budget is released), then wakes its round. */
export async function skipLabelTask(
  deps: { db: Database; temporal: () => Promise<Client> },
  input: { taskId: string; annotatorId: string | null },
): Promise<LabelTask> {
  const { task, workflowId } = await deps.db.tasks.skip(input);
  await wakeRound(deps.temporal, workflowId, input.taskId);
  return task;
}

export interface RoundStatus extends RoundProgress {
  /** The activity running now and its last heartbeat (scored/written and total, steps). */
  activity: RunningActivity | null;
}

/**
 * A round's progress for people: the workflow's own progress plus the running activity's
 * heartbeat (a page count and total while scoring or reindexing, the step while training).
 */
export async function roundStatus(client: Client, workflowId: string): Promise<RoundStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const [progress, description] = await Promise.all([
    handle.query(roundProgress),
    handle.describe(),
  ]);
  return { ...progress, activity: runningActivity(description) };
}

/** Progress of a project's latest ingest (null when it never ran or its history is gone). */
export async function ingestStatus(
  client: Client,
  projectId: string,
): Promise<IngestProgress | null> {
  try {
    return await client.workflow.getHandle(ingestWorkflowId(projectId)).query(ingestProgress);
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return null;
    throw error;
  }
}

export { reapStrandedWork, resumeIngests, workflowRunning } from './reaper.ts';
export type { RunningActivity } from './running-activity.ts';
export { emitWebhookEvent, resumeWebhookDeliveries, startWebhookDelivery } from './webhooks.ts';
export { resumeSearchIndexes, startSearchIndexRefresh } from './search-index.ts';
export {
  cancelEncoderTraining,
  encoderTrainingStatus,
  encoderTrainingWorkflowId,
  startEncoderTraining,
  type EncoderTrainingRequest,
  type EncoderTrainingStatus,
} from './encoder-training.ts';

/**
 * Whether an error says Temporal could not be reached (the server down, restarting or
 * unreachable): worth retrying later, and not the caller's fault.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  for (let e = error as Record<string, unknown> | undefined, depth = 0; e && depth < 5; depth++) {
    // gRPC 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED.
    if (e.code === 14 || e.code === 4) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (
      /UNAVAILABLE|Failed to connect|ECONNREFUSED|failed to reach|connection refused/i.test(message)
    ) {
      return true;
    }
    e = e.cause as Record<string, unknown> | undefined;
  }
  return false;
}
