// Webhook delivery: how long from an event being emitted until the receiver has it, and what
// a worker killed in the middle of a stream of events loses or repeats. A real orchestration
// worker process (the deliverWebhook workflow and sendWebhook activity as deployed), the real
// Temporal server, and a receiver on loopback that answers at once.
//
//   npm run bench:webhooks [-- --events 100]
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '@beanstalk/config';
import { createDatabase, migrate } from '@beanstalk/db';
import { emitWebhookEvent } from '@beanstalk/orchestration';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  createEmptyDatabase,
  databaseUrl,
  dropDatabase,
  seedFashionMnist,
} from '../tooling/testing/src/index.ts';
import { writeSvgChart } from './lib/chart.ts';
import { log } from './lib/fashion-mnist.ts';
import { benchBlobDir, benchQueues, spawnWorker } from './lib/platform.ts';
import { percentile, printTable, RESULTS_DIR, writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: { events: { type: 'string', default: '100' } },
});
const EVENTS = Number(args.events);
const config = loadConfig();

// The receiver: when each event (by its `data.seq`) first arrived, and how often.
const arrivals = new Map<number, number>();
const copies = new Map<number, number>();
const keys = new Map<number, Set<string>>();
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const seq = (JSON.parse(body) as { data: { seq: number } }).data.seq;
    if (!arrivals.has(seq)) arrivals.set(seq, performance.now());
    copies.set(seq, (copies.get(seq) ?? 0) + 1);
    keys.set(seq, (keys.get(seq) ?? new Set()).add(String(req.headers['idempotency-key'])));
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const port = (receiver.address() as { port: number }).port;

const database = await createEmptyDatabase('bench_webhooks');
await migrate(databaseUrl(database));
const db = createDatabase(databaseUrl(database));
const queues = benchQueues(randomUUID().slice(0, 8));
const workerEnv = { BEANSTALK_WEBHOOK_ALLOW_PRIVATE: 'true', BEANSTALK_MAINTENANCE_SECONDS: '0' };
const workers: ChildProcess[] = [];
const client = new Client({
  connection: await Connection.connect({ address: config.temporal.address }),
  namespace: config.temporal.namespace,
});
try {
  const { projectId } = await seedFashionMnist(
    { db, blobs: new LocalBlobStore(benchBlobDir) },
    { limit: 5, budget: 10 },
  );
  await db.webhooks.create({
    projectId,
    url: `http://127.0.0.1:${port}/hook`,
    description: 'bench',
    events: ['ROUND_COMPLETED'],
    budgetBelow: null,
    createdById: null,
  });
  workers.push(await spawnWorker('orchestration', database, queues, { env: workerEnv }));
  const emitted = new Map<number, number>();
  const emit = async (seq: number) => {
    emitted.set(seq, performance.now());
    await emitWebhookEvent(
      { db, client: async () => client },
      { projectId, event: 'ROUND_COMPLETED', key: `bench:${seq}`, payload: { seq } },
      queues,
    );
  };
  const arrived = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => from + i).every((s) => arrivals.has(s));
  const until = async (condition: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && Date.now() < deadline) await sleep(20);
  };

  // 1. One at a time: emit, wait for the receiver, next (a warm-up of 5 first).
  for (let seq = -5; seq < 0; seq++) {
    await emit(seq);
    await until(() => arrivals.has(seq), 30_000);
  }
  log(`${EVENTS} events one at a time`);
  for (let seq = 0; seq < EVENTS; seq++) {
    await emit(seq);
    await until(() => arrivals.has(seq), 30_000);
  }
  const latencies = Array.from({ length: EVENTS }, (_, s) => arrivals.get(s)! - emitted.get(s)!);

  // 2. A stream of events (one every 20 ms) with the worker killed halfway and a new one
  // started two seconds later: what arrives, how often.
  log(`${EVENTS} events in a stream, the worker killed after ${EVENTS / 2}`);
  const base = 100_000;
  const streamStart = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    if (i === EVENTS / 2) {
      workers.shift()!.kill('SIGKILL');
      setTimeout(() => {
        void spawnWorker('orchestration', database, queues, { env: workerEnv, quiet: true }).then(
          (w) => workers.push(w),
        );
      }, 2000);
    }
    await emit(base + i);
    await sleep(20);
  }
  await until(() => arrived(base, base + EVENTS), 120_000);
  const streamSeconds = (performance.now() - streamStart) / 1000;
  const stream = Array.from({ length: EVENTS }, (_, i) => base + i);
  const lost = stream.filter((s) => !arrivals.has(s)).length;
  const repeated = stream.filter((s) => (copies.get(s) ?? 0) > 1).length;
  const keysPerEvent = Math.max(...stream.map((s) => keys.get(s)?.size ?? 0));

  const round1 = (x: number) => Math.round(x * 10) / 10;
  const summary = {
    deliveryLatencyP50Ms: round1(percentile(latencies, 50)),
    deliveryLatencyP99Ms: round1(percentile(latencies, 99)),
    lostAcrossRestart: lost,
    repeatedAcrossRestart: repeated,
    idempotencyKeysPerEvent: keysPerEvent,
  };
  printTable([
    {
      'p50 ms': summary.deliveryLatencyP50Ms,
      'p99 ms': summary.deliveryLatencyP99Ms,
      'stream events': EVENTS,
      lost,
      'sent twice': repeated,
      'keys per event': keysPerEvent,
      'stream s': round1(streamSeconds),
    },
  ]);
  const file = writeResults('webhooks', summary, {
    events: EVENTS,
    definitions: {
      latency:
        'from the emitWebhookEvent call (delivery rows written, workflow started) to the receiver having the request, one event at a time',
      lostAcrossRestart: `events of a stream of ${EVENTS} (one every 20 ms, the worker SIGKILLed after half, a new one 2 s later) that never arrived within 120 s`,
      repeatedAcrossRestart:
        'events of that stream the receiver got more than once (at least once delivery)',
      idempotencyKeysPerEvent:
        'most distinct Idempotency-Key values one event arrived with (1: duplicates are recognisable)',
    },
    streamSeconds: round1(streamSeconds),
    latenciesMs: latencies.map(round1),
  });
  await writeSvgChart(path.join(RESULTS_DIR, 'webhooks.svg'), {
    title: 'Webhook delivery latency, event to receiver (one at a time)',
    width: 480,
    height: 220,
    data: { values: latencies.map((ms, i) => ({ event: i, ms })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', bin: { maxbins: 30 }, title: 'ms' },
      y: { aggregate: 'count', type: 'quantitative', title: 'events' },
    },
  });
  log(`wrote ${file} and webhooks.svg`);
} finally {
  for (const w of workers) w.kill('SIGKILL');
  receiver.close();
  await client.connection.close();
  await db.close();
  await dropDatabase(database);
}
