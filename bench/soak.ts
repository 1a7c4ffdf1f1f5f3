// Soak: the platform under steady use through a Postgres restart and a Temporal restart. A
// Postgres and a Temporal of this run's own, the API and both workers as processes, a campaign
// running; 4 simulated annotators claim and label through the API while 4 integrators classify.
// Per operation: requests, errors by code, p50/p99 outside and inside the restart windows;
// labels acknowledged against labels stored; each process's RSS over time.
//
//   npm run bench:soak [-- --minutes 10]
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '@beanstalk/config';
import { createDatabase } from '@beanstalk/db';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  freePort,
  seedIndexedFashionMnist,
  startPrivateServices,
  signIn,
  startProcess,
} from '../tooling/testing/src/index.ts';
import { writeSvgChart } from './lib/chart.ts';
import { log, ROOT } from './lib/fashion-mnist.ts';
import { percentile, printTable, RESULTS_DIR, writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    annotators: { type: 'string', default: '4' },
    integrators: { type: 'string', default: '4' },
  },
});
const DURATION_MS = Number(args.minutes) * 60_000;
const ANNOTATORS = Number(args.annotators);
const INTEGRATORS = Number(args.integrators);
/** How long a service stays down, and how long after it is back counts as its window. */
const DOWN_MS = 10_000;
const SETTLE_MS = 15_000;
const PASSWORD = 'soak-password-1';

/** Each process's output, for reading what went wrong (kept after the run). */
const LOGS = path.join(loadConfig().dataDir, 'bench', 'soak');
mkdirSync(LOGS, { recursive: true });
const svc = await startPrivateServices();
const db = createDatabase(svc.config.postgres.databaseUrl);
const blobs = new LocalBlobStore(svc.config.blobDir);
log('seeding: Fashion-MNIST 3000 pool + 3000 eval, 300 labeled, indexed');
const seeded = await seedIndexedFashionMnist(
  { db, blobs, modelsDir: path.join(svc.config.dataDir, 'models') },
  { limit: 3000, labeled: 300, budget: 100_000, slug: 'soak' },
);
await db.projects.update(seeded.projectId, { roundSize: 40, taskLeaseSeconds: 120 });
const truth = new Map(seeded.items.map((i) => [i.id, i.hiddenClassId!]));
const images = await Promise.all(
  seeded.items
    .filter((i) => i.split === 'EVAL')
    .slice(0, 100)
    .map(async (i) => ({ name: `${i.id}.png`, bytes: await blobs.get(i.blobKey) })),
);

const processes = new Map<string, ChildProcess>();
const exits: { name: string; code: number | null; atSeconds: number }[] = [];
const started = performance.now();
const now = () => performance.now() - started;
let stopping = false;

async function start(
  name: string,
  cwd: string,
  argv: string[],
  env: Record<string, string>,
  ready: string,
) {
  const log = path.join(LOGS, `${name}.log`);
  writeFileSync(log, '');
  const child = await startProcess({
    name,
    cwd: path.join(ROOT, cwd),
    args: argv,
    env: { ...svc.env, ...env },
    ready,
    onOutput: (chunk) => appendFileSync(log, chunk),
  });
  child.on('exit', (code) => {
    if (!stopping) exits.push({ name, code, atSeconds: now() / 1000 });
  });
  processes.set(name, child);
}

const apiPort = await freePort();
const url = `http://127.0.0.1:${apiPort}/graphql`;
await start(
  'api',
  'apps/api',
  ['src/index.ts'],
  { BEANSTALK_API_PORT: String(apiPort), BEANSTALK_API_RATE_LIMIT: '100000' },
  'GraphQL at',
);
await start(
  'orchestration',
  'apps/worker',
  ['src/main.ts', '--queue', 'orchestration'],
  { BEANSTALK_MAINTENANCE_SECONDS: '5' },
  'worker:',
);
await start('gpu', 'apps/worker', ['src/main.ts', '--queue', 'gpu'], {}, 'worker:');

// People and keys, through the API as a team would.
await db.users.create({ email: 'admin@soak', name: 'admin', password: PASSWORD, isAdmin: true });
const login = (email: string) => signIn(url, email, PASSWORD);
const admin = await login('admin@soak');
async function gql(headers: Record<string, string>, query: string, variables = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlAnswer;
}
const annotators: string[] = [];
for (let i = 0; i < ANNOTATORS; i++) {
  const email = `annotator${i}@soak`;
  await db.users.create({ email, name: email, password: PASSWORD });
  await db.users.setMembership({ projectId: seeded.projectId, email, role: 'ANNOTATOR' });
  annotators.push(await login(email));
}
const keys: string[] = [];
for (let i = 0; i < INTEGRATORS; i++) {
  const answer = await gql(
    { cookie: admin },
    `mutation { createApiKey(project: "soak", name: "line ${i}", role: INTEGRATOR) { secret } }`,
  );
  keys.push(answer.data!.createApiKey!.secret as string);
}
const campaign = await gql(
  { cookie: admin },
  'mutation { startCampaign(project: "soak") { workflowId } }',
);
if (campaign.errors) throw new Error(`campaign: ${JSON.stringify(campaign.errors)}`);

interface GqlAnswer {
  data?: Record<string, { [field: string]: unknown } | null> | null;
  errors?: { extensions?: { code?: string } }[];
}

interface Sample {
  op: 'claim' | 'submit' | 'classify';
  atMs: number;
  ms: number;
  code: string | null;
}
const samples: Sample[] = [];
const acknowledged = new Set<string>();
const windows: { service: string; fromMs: number; toMs: number }[] = [];
const inWindow = (t: number) => windows.some((w) => t >= w.fromMs && t <= w.toMs);
async function timed(op: Sample['op'], call: () => Promise<GqlAnswer>): Promise<GqlAnswer | null> {
  const t = now();
  let code: string | null;
  let answer: GqlAnswer | null = null;
  try {
    answer = await call();
    code = answer.errors?.[0]?.extensions?.code ?? null;
  } catch (error) {
    code = `NETWORK:${(error as Error).message.slice(0, 40)}`;
  }
  samples.push({ op, atMs: t, ms: now() - t, code });
  return code ? null : answer;
}

async function annotate(cookie: string) {
  while (now() < DURATION_MS) {
    const claimed = await timed('claim', () =>
      gql({ cookie }, 'mutation { claimNextTask(project: "soak") { id item { id } } }'),
    );
    const task = claimed?.data?.claimNextTask as { id: string; item: { id: string } } | null;
    if (!task) {
      await sleep(500);
      continue;
    }
    await sleep(150); // a quick look at the image
    // A person retries a label that did not go through, for as long as the task is theirs.
    for (let attempt = 0; attempt < 60 && now() < DURATION_MS + 60_000; attempt++) {
      const answer = await timed('submit', () =>
        gql(
          { cookie },
          'mutation ($t: ID!, $c: ID!) { submitLabel(taskId: $t, labelClassId: $c) { duplicate } }',
          { t: task.id, c: truth.get(task.item.id) },
        ),
      );
      if (answer) {
        acknowledged.add(task.id);
        break;
      }
      const code = samples.at(-1)!.code;
      if (code === 'CONFLICT' || code === 'NOT_FOUND') break;
      await sleep(1000);
    }
  }
}

async function classify(key: string, offset: number) {
  for (let i = offset; now() < DURATION_MS; i++) {
    const image = images[i % images.length]!;
    await timed('classify', async () => {
      const form = new FormData();
      form.append(
        'operations',
        JSON.stringify({
          query:
            'mutation ($i: Upload!) { classify(project: "soak", image: $i) { confidence anomalyScore } }',
          variables: { i: null },
        }),
      );
      form.append('map', '{"0":["variables.i"]}');
      form.append('0', new Blob([image.bytes], { type: 'image/png' }), image.name);
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': '1' },
        body: form,
      });
      return (await response.json()) as GqlAnswer;
    });
    await sleep(100);
  }
}

const rss: { atSeconds: number; process: string; mib: number }[] = [];
async function sampleRss() {
  let reported = 0;
  while (now() < DURATION_MS) {
    // A line a minute: what has happened so far and how long is left.
    if (now() - reported >= 60_000 && rss.length > 0) {
      reported = now();
      const latest = [...processes.keys()]
        .map((name) => `${name} ${rss.findLast((r) => r.process === name)?.mib ?? '?'}`)
        .join(', ');
      log(
        `${Math.round(now() / 60_000)}/${DURATION_MS / 60_000} min: ${acknowledged.size} labels, ` +
          `${samples.filter((x) => x.op === 'classify').length} classify calls, ` +
          `${samples.filter((x) => x.code).length} errors; RSS MiB ${latest}; ` +
          `${Math.ceil((DURATION_MS - now()) / 60_000)} min left`,
      );
    }
    for (const [name, child] of processes) {
      try {
        const kb = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(
          /VmRSS:\s+(\d+) kB/,
        )?.[1];
        if (kb)
          rss.push({
            atSeconds: Math.round(now() / 1000),
            process: name,
            mib: Math.round(Number(kb) / 1024),
          });
      } catch {
        // it exited: counted by its exit handler
      }
    }
    await sleep(5000);
  }
}

async function restart(service: 'postgres' | 'temporal', atMs: number) {
  await sleep(Math.max(0, atMs - now()));
  log(`${service}: stopping for ${DOWN_MS / 1000} s`);
  const fromMs = now();
  await (service === 'postgres' ? svc.stopPostgres() : svc.stopTemporal());
  await sleep(DOWN_MS);
  await (service === 'postgres' ? svc.startPostgres() : svc.startTemporal());
  windows.push({ service, fromMs, toMs: now() + SETTLE_MS });
  log(`${service}: back`);
}

log(`load for ${DURATION_MS / 60_000} min: ${ANNOTATORS} annotators, ${INTEGRATORS} integrators`);
await Promise.all([
  ...annotators.map((cookie) => annotate(cookie)),
  ...keys.map((key, i) => classify(key, i * 25)),
  sampleRss(),
  restart('postgres', DURATION_MS / 3),
  restart('temporal', (2 * DURATION_MS) / 3),
]);

// What the database holds against what the annotators were told.
const audit = await db.labels.audit(seeded.projectId);
const labelsLost = [...acknowledged].filter((t) => !audit.byTask.has(t)).length;
const labelsDuplicated =
  [...audit.byTask.values()].reduce((s, n) => s + n - 1, 0) + audit.itemsDoubled;
const rounds = await db.rounds.ofProject(seeded.projectId);

stopping = true;
for (const child of processes.values()) child.kill('SIGTERM');
await sleep(2000);
await db.close();
await svc.close();

const round2 = (x: number) => Math.round(x * 100) / 100;
const latency = (list: Sample[]) => {
  const ms = list.map((s) => s.ms);
  return {
    requests: list.length,
    p50Ms: round2(percentile(ms, 50)),
    p99Ms: round2(percentile(ms, 99)),
  };
};
const countErrors = (list: Sample[]) => {
  const errors: Record<string, number> = {};
  for (const s of list) if (s.code) errors[s.code] = (errors[s.code] ?? 0) + 1;
  return errors;
};
const operations = (['claim', 'submit', 'classify'] as const).map((op) => {
  const of = samples.filter((s) => s.op === op);
  const steady = of.filter((s) => !inWindow(s.atMs));
  const during = of.filter((s) => inWindow(s.atMs));
  return {
    op,
    requests: of.length,
    errors: countErrors(of),
    /** Errors outside the restart windows: the ones a restart does not explain. */
    steadyErrors: countErrors(steady),
    steady: latency(steady),
    restartWindows: latency(during),
  };
});
printTable(
  operations.map((o) => ({
    op: o.op,
    requests: o.requests,
    errors:
      Object.entries(o.errors)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ') || '-',
    'p50 steady': o.steady.p50Ms,
    'p99 steady': o.steady.p99Ms,
    'p50 restarts': o.restartWindows.p50Ms,
    'p99 restarts': o.restartWindows.p99Ms,
  })),
);
const apiLog = readFileSync(path.join(LOGS, 'api.log'), 'utf8');
const summary = {
  labelsLost,
  labelsDuplicated,
  processExits: exits.length,
  p99ClassifyMsSteady: operations.find((o) => o.op === 'classify')!.steady.p99Ms,
  labelsAcknowledged: acknowledged.size,
  labelsStored: audit.byTask.size,
  roundsCompleted: rounds.filter((r) => r.status === 'COMPLETED').length,
  apiInternalErrors: apiLog.split('api: internal error').length - 1,
};
console.log(summary);
const file = writeResults('soak', summary, {
  minutes: DURATION_MS / 60_000,
  annotators: ANNOTATORS,
  integrators: INTEGRATORS,
  downSeconds: DOWN_MS / 1000,
  windows: windows.map((w) => ({ ...w, fromSeconds: w.fromMs / 1000, toSeconds: w.toMs / 1000 })),
  operations,
  exits,
  rounds: rounds.map((r) => ({
    number: r.number,
    status: r.status,
    asked: r.budgetAsked,
    received: r.labelsReceived,
    note: r.note,
  })),
  rss,
});
// Latency over time (10 s buckets, p50 per operation) and RSS over time, restart windows shaded.
const buckets = new Map<string, number[]>();
for (const s of samples) {
  const key = `${s.op}:${Math.floor(s.atMs / 10_000) * 10}`;
  buckets.set(key, [...(buckets.get(key) ?? []), s.ms]);
}
await writeSvgChart(path.join(RESULTS_DIR, 'soak.svg'), {
  title: 'Soak: p50 latency per 10 s and RSS, with the Postgres and Temporal restarts',
  vconcat: [
    {
      width: 640,
      height: 200,
      layer: [
        {
          data: {
            values: windows.map((w) => ({
              from: w.fromMs / 1000,
              to: w.toMs / 1000,
              service: w.service,
            })),
          },
          mark: { type: 'rect', opacity: 0.15 },
          encoding: {
            x: { field: 'from', type: 'quantitative' },
            x2: { field: 'to' },
            color: { value: '#888' },
          },
        },
        {
          data: {
            values: [...buckets].map(([key, ms]) => ({
              op: key.split(':')[0],
              seconds: Number(key.split(':')[1]),
              p50: percentile(ms, 50),
            })),
          },
          mark: 'line',
          encoding: {
            x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
            y: { field: 'p50', type: 'quantitative', title: 'p50 ms', scale: { type: 'log' } },
            color: { field: 'op', type: 'nominal' },
          },
        },
      ],
    },
    {
      width: 640,
      height: 160,
      data: { values: rss },
      mark: 'line',
      encoding: {
        x: { field: 'atSeconds', type: 'quantitative', title: 'seconds' },
        y: { field: 'mib', type: 'quantitative', title: 'RSS MiB' },
        color: { field: 'process', type: 'nominal' },
      },
    },
  ],
});
log(`wrote ${file} and soak.svg`);
