import { createRequire } from 'node:module';
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { createPlatformActivities } from '@beanstalk/activities';
import type { Config } from '@beanstalk/config';
import type { PrismaClient } from '@beanstalk/db';
import { TASK_QUEUES } from '@beanstalk/shared';

const require = createRequire(import.meta.url);

export const QUEUE_KINDS = ['orchestration'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

export interface WorkerDeps {
  config: Config;
  prisma: PrismaClient;
  connection: NativeConnection;
  /** Overrides the queue name (tests use a queue of their own). */
  taskQueue?: string;
}

/** The orchestration worker: runs every workflow and the light, database-only activities. */
export async function createOrchestrationWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.taskQueue ?? TASK_QUEUES.orchestration,
    workflowsPath: require.resolve('@beanstalk/workflows'),
    activities: createPlatformActivities({ prisma: deps.prisma, config: deps.config }),
  });
}
