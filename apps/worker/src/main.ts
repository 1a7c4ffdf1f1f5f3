import { parseArgs } from 'node:util';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ConfigError, loadConfig } from '@beanstalk/config';
import { createDatabase } from '@beanstalk/db';
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
  const db = createDatabase(config.postgres.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const deps = { config, db, connection, concurrency, taskQueue: values['task-queue'] };
  const activities = activityDeps(deps);
  try {
    const workers: Worker[] = [];
    if (queue !== 'gpu') workers.push(await createOrchestrationWorker(deps, activities));
    if (queue !== 'orchestration') workers.push(await createGpuWorker(deps, activities));
    console.log(
      `worker: ${workers.map((w) => w.options.taskQueue).join(' + ')} on ${config.temporal.address}`,
    );
    // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished.
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await activities.encoders.close();
    await connection.close();
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
