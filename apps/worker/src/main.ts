import { parseArgs } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '@beanstalk/config';
import { createPrisma } from '@beanstalk/db';
import { createOrchestrationWorker, QUEUE_KINDS, type QueueKind } from './workers.ts';

async function main() {
  const { values } = parseArgs({
    options: { queue: { type: 'string', default: 'orchestration' } },
  });
  const queue = values.queue as QueueKind;
  if (!QUEUE_KINDS.includes(queue)) {
    throw new Error(`--queue must be one of ${QUEUE_KINDS.join(', ')} (got ${values.queue})`);
  }
  const config = loadConfig();
  const prisma = createPrisma(config.postgres.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createOrchestrationWorker({ config, prisma, connection });
    console.log(`worker: queue ${queue} on ${config.temporal.address}`);
    // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished.
    await worker.run();
  } finally {
    await connection.close();
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
