import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { EncoderCache } from '@beanstalk/activities';
import type { Config } from '@beanstalk/config';
import { createPool, createPrisma } from '@beanstalk/db';
import { TASK_QUEUES } from '@beanstalk/shared';
import { LocalBlobStore } from '@beanstalk/storage';
import type { Services } from './context.ts';
import { Classifier } from './services/classifier.ts';

/** Connects to Temporal on first use and again after a failed attempt. */
function lazyTemporal(config: Config): () => Promise<Client> {
  let client: Promise<Client> | undefined;
  return () => {
    client ??= Connection.connect({ address: config.temporal.address }).then(
      (connection) => new Client({ connection, namespace: config.temporal.namespace }),
    );
    client.catch(() => (client = undefined));
    return client;
  };
}

/** Everything the API is built from, with local defaults from the config. */
export function createServices(
  config: Config,
  overrides: Partial<Pick<Services, 'queues' | 'prisma' | 'pool'>> = {},
): Services & { close: () => Promise<void> } {
  const prisma = overrides.prisma ?? createPrisma(config.postgres.databaseUrl);
  const pool = overrides.pool ?? createPool(config.postgres.databaseUrl);
  const blobs = new LocalBlobStore(config.blobDir);
  const encoders = new EncoderCache(
    { prisma, blobs },
    // One inference thread per request keeps latency flat when requests run side by side.
    { dir: path.join(config.dataDir, 'models'), threads: 1 },
  );
  const temporal = lazyTemporal(config);
  return {
    config,
    prisma,
    pool,
    blobs,
    encoders,
    classifier: new Classifier({ prisma, pool, encoders }),
    temporal,
    queues: overrides.queues ?? { orchestration: TASK_QUEUES.orchestration, gpu: TASK_QUEUES.gpu },
    async close() {
      await encoders.close();
      await temporal()
        .then((c) => c.connection.close())
        .catch(() => undefined);
      if (!overrides.prisma) await prisma.$disconnect();
      if (!overrides.pool) await pool.end();
    },
  };
}
