// One place that brings up what the workflow tests share: a database of their own seeded with
// real Fashion-MNIST items and the real encoder, the real Temporal server with workers on
// queues of their own, and a simulated labeler that answers through the API's path.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '@beanstalk/activities';
import { loadConfig } from '@beanstalk/config';
import { EncoderCache } from '@beanstalk/model-runtime';
import { startIngest, submitLabel, type Queues } from '@beanstalk/orchestration';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  createTestDatabase,
  hiddenClassOf,
  seedFashionMnist,
  startProcess,
} from '@beanstalk/testing';
import { trainerWorkerCommand } from '../src/trainer-process.ts';
import { createGpuWorker, createOrchestrationWorker } from '../src/workers.ts';

export type Harness = Awaited<ReturnType<typeof startHarness>>;

// Worker state changes at INFO would bury the test report.
Runtime.install({ logger: new DefaultLogger('WARN') });

export async function startHarness(options: {
  limit: number;
  budget: number;
  /** false: the test runs gpu workers itself (for example as child processes). */
  gpuWorker?: boolean;
}) {
  const config = loadConfig();
  const db = await createTestDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-worker-'));
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const activities: ActivityDeps = {
    config: {
      ...config,
      blobDir: path.join(dir, 'blobs'),
      dataDir: dir,
      trainer: { ...config.trainer, workDir: path.join(dir, 'training'), threads: 2 },
      // Tests receive webhooks on loopback.
      webhooks: { ...config.webhooks, allowPrivateAddresses: true },
    },
    db: db.db,
    blobs,
    encoders: new EncoderCache({ db: db.db, blobs }, { dir: path.join(dir, 'models'), threads: 2 }),
  };
  const { projectId } = await seedFashionMnist(
    { db: db.db, blobs },
    { limit: options.limit, budget: options.budget },
  );
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const id = randomUUID().slice(0, 8);
  const queues: Queues = {
    orchestration: `test-orch-${id}`,
    gpu: `test-gpu-${id}`,
    train: `test-train-${id}`,
  };
  const workerDeps = { config: activities.config, db: db.db, connection: nativeConnection };
  const workers: Worker[] = [
    await createOrchestrationWorker({ ...workerDeps, taskQueue: queues.orchestration }, activities),
  ];
  if (options.gpuWorker !== false) {
    workers.push(await createGpuWorker({ ...workerDeps, taskQueue: queues.gpu }, activities));
  }
  const running = workers.map((w) => w.run());
  const trainers: ChildProcess[] = [];

  /** The Python training worker as a real process on this harness's train queue. */
  async function startTrainer(): Promise<ChildProcess> {
    const { command, args, cwd } = trainerWorkerCommand(activities.config, queues.train);
    const child = await startProcess({ name: 'trainer', command, args, cwd, ready: 'polling' });
    trainers.push(child);
    return child;
  }

  /** Embeds every item through the ingest workflow. */
  async function ingestAll() {
    const handle = await startIngest(client, projectId, queues);
    return handle.result();
  }

  /**
   * Answers open tasks of the project with the hidden truth, through the same path as the API
   * (store the label, then signal the round), until `until()` is true.
   */
  async function label(until: () => boolean, leaseSeconds = 120): Promise<number> {
    let answered = 0;
    while (!until()) {
      const task = await db.db.tasks.claimNext({ projectId, annotatorId: null, leaseSeconds });
      if (!task) {
        await sleep(100);
        continue;
      }
      await submitLabel(
        { db: db.db, temporal: async () => client },
        { taskId: task.id, labelClassId: await hiddenClassOf(db.db, task.itemId) },
      );
      answered++;
    }
    return answered;
  }

  return {
    config: activities.config,
    db,
    dir,
    client,
    queues,
    projectId,
    activities,
    ingestAll,
    label,
    startTrainer,
    async close() {
      for (const t of trainers) t.kill('SIGKILL');
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await activities.encoders.close();
      await nativeConnection.close();
      await connection.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
