// The running platform as the end-to-end benchmarks use it: worker processes on queues of
// their own against a database of their own, template databases of embedded Fashion-MNIST
// that every run copies, and a simulated labeler answering tasks through the API's label path.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '@beanstalk/config';
import { createDatabase, migrate, type Database } from '@beanstalk/db';
import { startIngest, submitLabel, type Queues } from '@beanstalk/orchestration';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  copyDatabase,
  createNamedDatabase,
  databaseExists,
  databaseUrl,
  dropDatabase,
  hiddenClassOf,
  renameDatabase,
  seedFashionMnist,
} from '../../tooling/testing/src/index.ts';
import { log, ROOT } from './fashion-mnist.ts';

export const benchBlobDir = path.join(loadConfig().dataDir, 'bench', 'blobs');

/** Queues of this benchmark process, so its workers never take another run's tasks. */
export function benchQueues(id: string): Queues {
  return { orchestration: `bench-orch-${id}`, gpu: `bench-gpu-${id}`, train: `bench-train-${id}` };
}

/**
 * A worker process on one queue against `database` (`train`: the Python training worker);
 * resolves once it polls.
 */
export async function spawnWorker(
  queue: 'orchestration' | 'gpu' | 'train',
  database: string,
  queues: Queues,
  options: { quiet?: boolean; env?: Record<string, string> } = {},
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', '--queue', queue, '--task-queue', queues[queue]!],
    {
      cwd: path.join(ROOT, 'apps/worker'),
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl(database),
        BEANSTALK_BLOB_DIR: benchBlobDir,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', queue === 'train' ? 'pipe' : 'inherit'],
    },
  );
  // The Python worker logs to stderr, and says "polling" when it is ready.
  const ready = queue === 'train' ? 'polling' : 'worker:';
  await new Promise<void>((resolve, reject) => {
    const watch = (chunk: Buffer) => {
      // The workers' own reports (which provider, reindex timings) go into the bench log.
      if (!options.quiet) process.stdout.write(`  [${queue}] ${chunk.toString()}`);
      if (chunk.toString().includes(ready)) resolve();
    };
    child.stdout!.on('data', watch);
    child.stderr?.on('data', watch);
    child.on('exit', (code) => reject(new Error(`${queue} worker exited with ${code}`)));
  });
  return child;
}

/** Peak resident memory of a live process (Linux VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return line ? Math.round(Number(line[1]) / 1024) : Number.NaN;
}

/**
 * Builds `template` once: a database with `build(db)` done in it (for Fashion-MNIST: imported
 * and embedded by real workers). Later runs copy it.
 */
export async function ensureTemplate(
  template: string,
  build: (db: Database, database: string) => Promise<void>,
): Promise<void> {
  if (await databaseExists(template)) return;
  const building = `${template}_building`;
  await dropDatabase(building);
  await createNamedDatabase(building);
  await migrate(databaseUrl(building));
  const db = createDatabase(databaseUrl(building));
  try {
    await build(db, building);
  } finally {
    await db.close();
  }
  await sleep(2000);
  await renameDatabase(building, template);
}

/** This run's Temporal client and its own task queues (named after the process). */
export async function benchTemporal() {
  const config = loadConfig();
  const id = `${process.pid}`;
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return { id, queues: benchQueues(id), connection, client };
}

/**
 * A fresh copy of `template` named `database`, opened; a template built before the latest
 * migrations gets them here.
 */
export async function workingCopy(template: string, database: string): Promise<Database> {
  await copyDatabase(template, database);
  await migrate(databaseUrl(database));
  return createDatabase(databaseUrl(database));
}

/**
 * Fashion-MNIST (the first `limit` train images as the pool, the first `limit` test images
 * as eval; all when absent) imported into project `slug` and embedded by real workers.
 */
export async function buildFashionMnist(
  db: Database,
  database: string,
  options: { client: Client; queues: Queues; slug: string; limit?: number; encoder?: string },
): Promise<void> {
  log(`first run: importing and embedding Fashion-MNIST into ${database}`);
  const { projectId } = await seedFashionMnist(
    { db, blobs: new LocalBlobStore(benchBlobDir) },
    { budget: 1_000_000, slug: options.slug, limit: options.limit, encoder: options.encoder },
  );
  const gpu = await spawnWorker('gpu', database, options.queues);
  const orchestration = await spawnWorker('orchestration', database, options.queues);
  try {
    const ingest = await (await startIngest(options.client, projectId, options.queues)).result();
    log(`  embedded ${ingest.embedded}`);
  } finally {
    gpu.kill('SIGTERM');
    orchestration.kill('SIGTERM');
  }
}

/**
 * A labeler that answers every task of the project at once with the item's hidden truth,
 * through the API's label path (submitLabel), until `stop()` is called. Simulation only.
 */
export function simulatedLabeler(deps: { db: Database; client: Client }, projectId: string) {
  let done = false;
  const running = (async () => {
    while (!done) {
      const task = await deps.db.tasks.claimNext({
        projectId,
        annotatorId: null,
        leaseSeconds: 300,
      });
      if (!task) {
        await sleep(50);
        continue;
      }
      await submitLabel(
        { db: deps.db, temporal: async () => deps.client },
        { taskId: task.id, labelClassId: await hiddenClassOf(deps.db, task.itemId) },
      );
    }
  })();
  return {
    async stop() {
      done = true;
      await running;
    },
  };
}
