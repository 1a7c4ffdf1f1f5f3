import { createRequire } from 'node:module';
import path from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import {
  createGpuActivities,
  createOrchestrationActivities,
  type ActivityDeps,
} from '@beanstalk/activities';
import type { Config } from '@beanstalk/config';
import type { Database } from '@beanstalk/db';
import { EncoderCache } from '@beanstalk/model-runtime';
import { TASK_QUEUES } from '@beanstalk/shared';
import { LocalBlobStore } from '@beanstalk/storage';

const require = createRequire(import.meta.url);

/** `all`: orchestration, gpu and the Python training worker; `train`: the last alone. */
export const QUEUE_KINDS = ['orchestration', 'gpu', 'train', 'all'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

export interface WorkerDeps {
  config: Config;
  db: Database;
  connection: NativeConnection;
  /** Overrides the queue name (tests use queues of their own). */
  taskQueue?: string;
  /** Activities run at once by this worker (default: Temporal's). */
  concurrency?: number;
}

export function activityDeps(deps: WorkerDeps, options: { threads?: number } = {}): ActivityDeps {
  const blobs = new LocalBlobStore(deps.config.blobDir);
  return {
    config: deps.config,
    db: deps.db,
    blobs,
    encoders: new EncoderCache(
      { db: deps.db, blobs },
      { dir: path.join(deps.config.dataDir, 'models'), threads: options.threads },
    ),
  };
}

function workerOptions(deps: WorkerDeps, queue: keyof typeof TASK_QUEUES, concurrency?: number) {
  return {
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.taskQueue ?? TASK_QUEUES[queue],
    maxConcurrentActivityTaskExecutions: deps.concurrency ?? concurrency,
  };
}

/** The orchestration worker: every workflow, and the database and light kNN activities. */
export async function createOrchestrationWorker(
  deps: WorkerDeps,
  activities: ActivityDeps = activityDeps(deps),
): Promise<Worker> {
  return Worker.create({
    ...workerOptions(deps, 'orchestration'),
    workflowsPath: require.resolve('@beanstalk/workflows'),
    activities: createOrchestrationActivities(activities),
  });
}

/**
 * The gpu worker: encoder inference, head training and reindexing. onnxruntime's CUDA
 * provider is used when present (the encoder logs which); one activity at a time by default,
 * since each already uses every core or the GPU.
 */
export async function createGpuWorker(
  deps: WorkerDeps,
  activities: ActivityDeps = activityDeps(deps),
): Promise<Worker> {
  return Worker.create({
    ...workerOptions(deps, 'gpu', 1),
    activities: createGpuActivities(activities),
  });
}
