import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '@beanstalk/config';
import { createDatabase, ReadCache, type Database } from '@beanstalk/db';
import { InferenceThread } from '@beanstalk/ml';
import { Classifier, EncoderCache, ProjectorCache } from '@beanstalk/model-runtime';
import { DEFAULT_QUEUES } from '@beanstalk/orchestration';
import { LocalBlobStore } from '@beanstalk/storage';
import { LoginThrottle } from './auth/throttle.ts';
import type { Services } from './context.ts';
import { LiveHub } from './live/hub.ts';

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
  overrides: Partial<Pick<Services, 'queues' | 'db'>> = {},
): Services & { close: () => Promise<void> } {
  const db: Database = overrides.db ?? createDatabase(config.postgres.databaseUrl);
  const blobs = new LocalBlobStore(config.blobDir);
  // Listens on a connection of its own; reads go to the database until it does.
  const reads = new ReadCache(db);
  void reads.start();
  // Models run in a thread of their own, so requests are parsed and answered while one runs
  // (onnxruntime-node runs a session on the thread that calls it); one onnxruntime thread per
  // run keeps latency flat when requests run side by side.
  const inference = new InferenceThread();
  const encoders = new EncoderCache(
    { db, blobs },
    { dir: path.join(config.dataDir, 'models'), threads: 1, thread: inference },
  );
  const projectors = new ProjectorCache(db, 1, inference);
  const classifier = new Classifier({ db, reads, encoders, projectors }, { thread: inference });
  const temporal = lazyTemporal(config);
  const live = new LiveHub(db);
  return {
    config,
    db,
    reads,
    blobs,
    encoders,
    classifier,
    temporal,
    queues: overrides.queues ?? DEFAULT_QUEUES,
    logins: new LoginThrottle(),
    live,
    async close() {
      await live.close();
      await reads.close();
      await classifier.close();
      await projectors.close();
      await encoders.close();
      await inference.close();
      await temporal()
        .then((c) => c.connection.close())
        .catch(() => undefined);
      if (!overrides.db) await db.close();
    },
  };
}
