import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { AppError, TASK_QUEUES } from '@beanstalk/shared';
import {
  encoderTrainingProgress,
  ingestProgress,
  newEncoderTrainingProgress,
  trainEncoder,
  type EncoderTrainingProgress,
  type IngestProgress,
  type TrainEncoderInput,
} from '@beanstalk/workflows';
import { DEFAULT_QUEUES, type Queues } from './queues.ts';
import { runningActivity, type RunningActivity } from './running-activity.ts';

/** One training at a time per project: its workflow id. */
export const encoderTrainingWorkflowId = (projectId: string) => `train-encoder-${projectId}`;

export type EncoderTrainingRequest = Omit<TrainEncoderInput, 'gpuTaskQueue' | 'trainTaskQueue'>;

/** Starts training an encoder for a project; CONFLICT while one is running. */
export async function startEncoderTraining(
  client: Client,
  input: EncoderTrainingRequest,
  queues: Queues = DEFAULT_QUEUES,
) {
  try {
    return await client.workflow.start(trainEncoder, {
      taskQueue: queues.orchestration,
      workflowId: encoderTrainingWorkflowId(input.projectId),
      workflowIdConflictPolicy: 'FAIL',
      args: [
        { ...input, gpuTaskQueue: queues.gpu, trainTaskQueue: queues.train ?? TASK_QUEUES.train },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new AppError(
        'CONFLICT',
        'an encoder is being trained for this project; cancel it or wait for it to end',
      );
    }
    throw error;
  }
}

export interface EncoderTrainingStatus extends EncoderTrainingProgress {
  workflowId: string;
  running: boolean;
  startedAt: Date | null;
  closedAt: Date | null;
  /** The running step's last heartbeat: the epoch, loss and ETA while training. */
  activity: RunningActivity | null;
  /** The new encoder's embedding, while it runs. */
  embedding: IngestProgress | null;
}

/** A project's latest encoder training (null when none ran or its history is gone). */
export async function encoderTrainingStatus(
  client: Client,
  projectId: string,
): Promise<EncoderTrainingStatus | null> {
  const workflowId = encoderTrainingWorkflowId(projectId);
  const handle = client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return null;
    throw error;
  }
  const running = description.status.name === 'RUNNING';
  // A query needs a worker to answer it: without one, say what is known instead of failing.
  const progress = await handle.query(encoderTrainingProgress).catch(() => null);
  if (!progress) {
    return {
      ...newEncoderTrainingProgress(
        { objective: '', epochs: 0 },
        running ? 'waiting-for-worker' : 'failed',
      ),
      note: running
        ? 'waiting for an orchestration worker to pick the training up'
        : `the training ended (${description.status.name.toLowerCase()}) and its progress is no longer available`,
      workflowId,
      running,
      startedAt: description.startTime ?? null,
      closedAt: description.closeTime ?? null,
      activity: null,
      embedding: null,
    };
  }
  let embedding: IngestProgress | null = null;
  if (progress.phase === 'embedding') {
    embedding = await client.workflow
      .getHandle(`${workflowId}-embed`)
      .query(ingestProgress)
      .catch(() => null);
  }
  return {
    ...progress,
    workflowId,
    running,
    startedAt: description.startTime ?? null,
    closedAt: description.closeTime ?? null,
    activity: runningActivity(description),
    embedding,
  };
}

/** Cancels a project's running training; the project keeps its encoder. NOT_FOUND if none. */
export async function cancelEncoderTraining(client: Client, projectId: string): Promise<void> {
  const handle = client.workflow.getHandle(encoderTrainingWorkflowId(projectId));
  const notRunning = new AppError('NOT_FOUND', 'no encoder training is running for this project');
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') throw notRunning;
    await handle.cancel();
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') throw notRunning;
    throw error;
  }
}
