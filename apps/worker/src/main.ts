import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ConfigError, loadConfig, type Config } from '@beanstalk/config';
import { createDatabase } from '@beanstalk/db';
import { TASK_QUEUES } from '@beanstalk/shared';
import { startMaintenance } from './maintenance.ts';
import { spawnTrainerWorker } from './trainer-process.ts';
import {
  activityDeps,
  createGpuWorker,
  createOrchestrationWorker,
  QUEUE_KINDS,
  type QueueKind,
} from './workers.ts';

async function main() {
  const { values } = parseArgs({
    options: {
      queue: { type: 'string', default: 'orchestration' },
      concurrency: { type: 'string' },
      'task-queue': { type: 'string' },
      'gpu-task-queue': { type: 'string' },
    },
  });
  const queue = values.queue as QueueKind;
  if (!QUEUE_KINDS.includes(queue)) {
    throw new Error(`--queue must be one of ${QUEUE_KINDS.join(', ')} (got ${values.queue})`);
  }
  const concurrency = values.concurrency ? Number(values.concurrency) : undefined;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new Error(`--concurrency must be a positive whole number (got ${values.concurrency})`);
  }
  const config = loadConfig();
  if (queue === 'train') return runTrainer(config, values['task-queue']);
  // Activities page through large tables; an index build turns the limit off for itself.
  const db = createDatabase(config.postgres.databaseUrl, { statementTimeoutMs: 10 * 60_000 });
  const connection = await untilConnected(config.temporal.address, () =>
    NativeConnection.connect({ address: config.temporal.address }),
  );
  const deps = { config, db, connection, concurrency, taskQueue: values['task-queue'] };
  const activities = activityDeps(deps);
  let stopMaintenance = () => {};
  let client: Client | undefined;
  let trainer: ChildProcess | undefined;
  try {
    if (queue !== 'gpu' && config.worker.maintenanceSeconds > 0) {
      client = new Client({
        connection: await Connection.connect({ address: config.temporal.address }),
        namespace: config.temporal.namespace,
      });
      const queues = {
        orchestration: values['task-queue'] ?? TASK_QUEUES.orchestration,
        gpu: values['gpu-task-queue'] ?? TASK_QUEUES.gpu,
      };
      stopMaintenance = startMaintenance(
        { db, client, queues, keepRetiredSets: config.worker.keepRetiredSets },
        config.worker.maintenanceSeconds * 1000,
      );
    }
    const workers: Worker[] = [];
    if (queue !== 'gpu') workers.push(await createOrchestrationWorker(deps, activities));
    if (queue !== 'orchestration') workers.push(await createGpuWorker(deps, activities));
    console.log(
      `worker: ${workers.map((w) => w.options.taskQueue).join(' + ')} on ${config.temporal.address}`,
    );
    // `all` runs the Python training worker beside the others, and stops it with them.
    if (queue === 'all') trainer = spawnTrainerWorker(config);
    // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished.
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    trainer?.kill('SIGTERM');
    stopMaintenance();
    await client?.connection.close();
    await activities.encoders.close();
    await connection.close();
    await db.close();
  }
}

/**
 * `--queue train`: the Python training worker alone; signals are passed on, and its exit
 * status is this process's.
 */
async function runTrainer(config: Config, taskQueue?: string): Promise<void> {
  const child = spawnTrainerWorker(config, taskQueue);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  process.exitCode = code ?? 1;
}

/** Connects, retrying while Temporal is not reachable yet (a worker started before it). */
async function untilConnected<T>(address: string, connect: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (error) {
      console.warn(
        `worker: Temporal at ${address} not reachable (${(error as Error).message}); retrying`,
      );
      await sleep(Math.min(30_000, 1000 * attempt));
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
