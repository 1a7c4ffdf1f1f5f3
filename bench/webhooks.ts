// Webhook delivery: how long from an event being emitted until the receiver has it, and what
// a worker killed in the middle of a stream of events loses or repeats. A real orchestration
// worker process (the deliverWebhook workflow and sendWebhook activity as deployed), the real
// Temporal server, and a receiver on loopback that answers at once. The stream with a kill is
// run --kills times (the kill at a different point of each stream), so a count of lost events
// covers that many kills, not one.
//
//   npm run bench:webhooks [-- --events 100 --kills 5]
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
  options: {
    events: { type: 'string', default: '100' },
    kills: { type: 'string', default: '5' },
  },
});
const EVENTS = Number(args.events);
const KILLS = Number(args.kills);
if (!Number.isInteger(EVENTS) || EVENTS < 2 || !Number.isInteger(KILLS) || KILLS < 1) {
  throw new Error(
    `--events must be a whole number >= 2 and --kills >= 1 (got ${EVENTS}, ${KILLS})`,
  );
}
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

  // 2. Streams of events (one every 20 ms), each with the worker killed part-way (a different
  // point each time, from a quarter to three quarters in) and a new one started two seconds
  // later: what arrives, how often. Each stream waits until the last worker is up again.
  const streams: { killedAfter: number; lost: number; repeated: number; seconds: number }[] = [];
  const allStreamed: number[] = [];
  for (let run = 0; run < KILLS; run++) {
    const killAt = Math.round(EVENTS * (0.25 + (0.5 * run) / Math.max(1, KILLS - 1)));
    log(`stream ${run + 1}/${KILLS}: ${EVENTS} events, the worker killed after ${killAt}`);
    const base = 100_000 * (run + 1);
    const streamStart = performance.now();
    let replaced: Promise<void> = Promise.resolve();
    for (let i = 0; i < EVENTS; i++) {
      if (i === killAt) {
        workers.shift()!.kill('SIGKILL');
        replaced = sleep(2000).then(async () => {
          workers.push(
            await spawnWorker('orchestration', database, queues, { env: workerEnv, quiet: true }),
          );
        });
      }
      await emit(base + i);
      await sleep(20);
    }
    await replaced;
    await until(() => arrived(base, base + EVENTS), 120_000);
    const stream = Array.from({ length: EVENTS }, (_, i) => base + i);
    allStreamed.push(...stream);
    streams.push({
      killedAfter: killAt,
      lost: stream.filter((s) => !arrivals.has(s)).length,
      repeated: stream.filter((s) => (copies.get(s) ?? 0) > 1).length,
      seconds: (performance.now() - streamStart) / 1000,
    });
  }
  const lost = streams.reduce((sum, s) => sum + s.lost, 0);
  const repeated = streams.reduce((sum, s) => sum + s.repeated, 0);
  const keysPerEvent = Math.max(...allStreamed.map((s) => keys.get(s)?.size ?? 0));

  const round1 = (x: number) => Math.round(x * 10) / 10;
  const summary = {
    deliveryLatencyP50Ms: round1(percentile(latencies, 50)),
    deliveryLatencyP99Ms: round1(percentile(latencies, 99)),
    lostAcrossRestart: lost,
    repeatedAcrossRestart: repeated,
    eventsAcrossRestarts: allStreamed.length,
    restarts: KILLS,
    idempotencyKeysPerEvent: keysPerEvent,
  };
  printTable([{ 'p50 ms': summary.deliveryLatencyP50Ms, 'p99 ms': summary.deliveryLatencyP99Ms }]);
  printTable(
    streams.map((s, i) => ({
      stream: i + 1,
      'killed after': s.killedAfter,
      lost: s.lost,
      'sent twice': s.repeated,
      s: round1(s.seconds),
    })),
  );
  const file = writeResults('webhooks', summary, {
    events: EVENTS,
    streams: streams.map((s) => ({ ...s, seconds: round1(s.seconds) })),
    definitions: {
      latency:
        'from the emitWebhookEvent call (delivery rows written, workflow started) to the receiver having the request, one event at a time',
      lostAcrossRestart: `events of ${KILLS} streams of ${EVENTS} (one every 20 ms, the worker SIGKILLed part-way through each, a new one 2 s later) that never arrived within 120 s of their stream's end`,
      repeatedAcrossRestart:
        'events of those streams the receiver got more than once (at least once delivery)',
      eventsAcrossRestarts: 'events in those streams, all told',
      idempotencyKeysPerEvent:
        'most distinct Idempotency-Key values one event arrived with (1: duplicates are recognisable)',
    },
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
