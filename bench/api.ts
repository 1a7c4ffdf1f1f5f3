// API latency: `classify` p50/p99 and throughput at 1 and 8 concurrent clients against the
// real API process over HTTP, next to the bare path (encoder, head projection and the Scorer
// over the references held in memory, in this process) measured in the same run, on a
// Fashion-MNIST project of 10k pool images (5k labeled) + 10k eval images; `api-json` is the
// same image sent as JSON (classifyBase64, one image: no multipart). Then
// `classifyBatch` of BATCH images per request at 8 clients against the bare path doing the
// same batches (one encoder batch, one projection, one search), in images per second. Every
// row is measured --repeats times, the paths taking turns: the figures are means over the
// repeats with their spread. Each row also records the CPU time per image of the process doing
// the work (the API's, all threads; this one's for the bare path).
//
// `--profile` runs the API under the V8 profiler and writes where its main thread's CPU time
// went, by package (`bench/results/api-profile.json`; the models run in the API's inference
// thread, which is not in it).
//
// `--realistic` measures `classify` at scale instead: the realistic set (Fashion-MNIST grown to
// --items, default 1M, with augmented copies embedded by the real encoder; bench/lib/augmented.ts),
// every item projected by a head and published, with 0.1% and then 1% of the pool labeled; per
// share, the API's and the bare path's p50 at 1 and 8 clients and how long loading the
// references (what the API rebuilds after labels change) takes. Kept beside the 10k figures.
//
//   npm run bench:api [-- --requests 400 --warmup 2000 --repeats 5 --profile] [-- --realistic --items 1000000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '@beanstalk/config';
import { createDatabase, migrate, VECTOR_DIMS, type Database } from '@beanstalk/db';
import { normaliseRows, project, stackRows } from '@beanstalk/ml';
import {
  EncoderCache,
  loadAnomalyReferences,
  loadReferences,
  ProjectorCache,
  scorerFor,
} from '@beanstalk/model-runtime';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  createEmptyDatabase,
  createProjectionHead,
  databaseUrl,
  dropDatabase,
  grayPng,
  seedIndexedFashionMnist,
} from '../tooling/testing/src/index.ts';
import { AUGMENTED_SLUG, augmentedTemplate } from './lib/augmented.ts';
import { writeSvgChart } from './lib/chart.ts';
import { loadFashionMnist, log, ROOT } from './lib/fashion-mnist.ts';
import { benchBlobDir, workingCopy } from './lib/platform.ts';
import {
  commandLine,
  meanSd,
  median,
  percentile,
  previousResults,
  printTable,
  RESULTS_DIR,
  writeResults,
} from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    warmup: { type: 'string', default: '2000' },
    repeats: { type: 'string', default: '5' },
    limit: { type: 'string', default: '10000' },
    profile: { type: 'boolean', default: false },
    realistic: { type: 'boolean', default: false },
    items: { type: 'string', default: '1000000' },
  },
});
const PROFILE_DIR = args.profile ? mkdtempSync(path.join(os.tmpdir(), 'api-profile-')) : null;
const REQUESTS = Number(args.requests);
/**
 * Untimed requests per path before the timed ones, at 8 clients. The API answers its first
 * thousand or so requests markedly slower (V8 still optimising its request path): with 40 at 2
 * clients (until 2026-12-06), the 8-client rows, after 800 timed single-client requests, ran
 * 23-36% below the rate of runs ten times as long.
 */
const WARMUP = Number(args.warmup);
/** How many times each row of the 10k run is measured (see `repeats` in the results). */
const REPEATS = Number(args.repeats);
if (!(Number.isInteger(REPEATS) && REPEATS >= 1)) {
  throw new Error(`--repeats must be a whole number of at least 1 (got ${args.repeats})`);
}
const LIMIT = Number(args.limit);
const K = 10;
/** Images per classifyBatch request. */
const BATCH = 32;
const PORT = 4000 + (process.pid % 1000) + 100;
const SLUG = args.realistic ? AUGMENTED_SLUG : 'fashion-mnist';

const config = loadConfig();
const dir = path.join(config.dataDir, 'bench', 'api');
const blobs = new LocalBlobStore(path.join(dir, 'blobs'));

/**
 * CPU seconds a process has used so far, all its threads (Linux: /proc), or null where that
 * cannot be read. This process's own comes from process.cpuUsage().
 */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined || pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  try {
    // Per thread, nanoseconds on a CPU: finer than the clock ticks of /proc/<pid>/stat.
    return readdirSync(`/proc/${pid}/task`).reduce(
      (sum, tid) =>
        sum +
        Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9,
      0,
    );
  } catch {
    return null;
  }
}

/**
 * Runs `total` calls with `clients` callers in parallel; latencies in ms, throughput, and the
 * CPU time per call of the process `cpuOf` names (the API's, or this one's for the bare path):
 * what the work costs, apart from how the two cores were shared while it ran.
 */
async function load(
  clients: number,
  total: number,
  call: (i: number) => Promise<void>,
  cpuOf?: number,
) {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = cpuSeconds(cpuOf);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuSeconds(cpuOf);
  return {
    cpuMsPerCall:
      cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / total,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    perSecond: total / seconds,
  };
}

async function startApiProcess(database: string, blobDir: string): Promise<ChildProcess> {
  const profiling = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', 'src/index.ts'], {
    cwd: path.join(ROOT, 'apps/api'),
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(database),
      BEANSTALK_BLOB_DIR: blobDir,
      BEANSTALK_API_PORT: String(PORT),
      BEANSTALK_API_RATE_LIMIT: '100000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('GraphQL at')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`api exited with ${code}`)));
  });
  return child;
}

/** A new admin signs in and creates an INTEGRATOR key on the project: the Authorization header. */
async function integratorKey(db: Database, url: string, projectId: string): Promise<string> {
  await db.users.create({
    email: 'bench@example.com',
    name: 'bench',
    password: 'bench-password',
    isAdmin: true,
  });
  await db.users.setMembership({
    projectId,
    email: 'bench@example.com',
    role: 'ADMIN',
  });
  const post = async (body: string, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const login = await post(
    JSON.stringify({
      query: 'mutation { login(email: "bench@example.com", password: "bench-password") { id } }',
    }),
  );
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const keyAnswer = (await (
    await post(
      JSON.stringify({
        query: `mutation { createApiKey(project: "${SLUG}", name: "bench", role: INTEGRATOR) { secret } }`,
      }),
      { cookie },
    )
  ).json()) as { data: { createApiKey: { secret: string } } };
  return `Bearer ${keyAnswer.data.createApiKey.secret}`;
}

/** One PNG classified by a multipart request, as an integrator sends it; the HTTP status. */
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Keep-alive connections for the load generator: one per client at most. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

interface Answer {
  errors?: unknown[];
  data?: Record<string, unknown[]>;
}

/**
 * POSTs a ready body and reads the JSON answer, failing on GraphQL errors. The load generator
 * shares the cores with the API, so it does as little as a client can: each body is built
 * once and sent over node:http (fetch with a new FormData per request spent about 7 ms of CPU
 * per 32-image batch here, a third of what the API itself spent).
 */
function postBody(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; answer: Answer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer;
          if (answer.errors) reject(new Error(`request failed: ${JSON.stringify(answer.errors)}`));
          else resolve({ status: response.statusCode!, answer });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A GraphQL multipart request (operations, map, then the files) as one body. */
function multipartBody(
  operations: string,
  files: { name: string; bytes: Uint8Array }[],
  variable: (position: number) => string,
): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----bench${process.pid}`;
  const map = Object.fromEntries(files.map((_, j) => [String(j), [variable(j)]]));
  const field = (name: string, value: string) =>
    `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const parts: Buffer[] = [
    Buffer.from(field('operations', operations) + field('map', JSON.stringify(map))),
  ];
  files.forEach((file, j) => {
    parts.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${j}"; filename="${file.name}"\r\n` +
          'content-type: image/png\r\n\r\n',
      ),
      Buffer.from(file.bytes),
      Buffer.from('\r\n'),
    );
  });
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(parts),
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'apollo-require-preflight': '1',
    },
  };
}

/** `classify` of one image as a multipart upload; the status code of the answer. */
function classifyUpload(url: string, authorization: string) {
  const operations = JSON.stringify({
    query: `mutation ($image: Upload!) { classify(project: "${SLUG}", image: $image, k: ${K}) {
      labelClass { name } confidence anomalyScore neighbors { distance item { id } } } }`,
    variables: { image: null },
  });
  const bodies = new Map<string, ReturnType<typeof multipartBody>>();
  return async (image: { name: string; bytes: Uint8Array }): Promise<number> => {
    let request = bodies.get(image.name);
    if (!request) {
      request = multipartBody(operations, [image], () => 'variables.image');
      bodies.set(image.name, request);
    }
    const { status } = await postBody(url, { ...request.headers, authorization }, request.body);
    return status;
  };
}

/** What the scale run puts in the summary; a 10k run keeps them. */
const SCALE_KEYS = ['classifyP50Ms1M', 'classifyP50Ms1MByShare', 'referenceLoadSeconds1M'];

function scaleSummary(previous: Record<string, unknown> | null): Record<string, unknown> {
  const summary = (previous?.summary ?? {}) as Record<string, unknown>;
  return Object.fromEntries(SCALE_KEYS.filter((k) => k in summary).map((k) => [k, summary[k]]));
}

/** Shares of the pool labeled in the scale run, in the order it labels them. */
const SHARES = [0.001, 0.01];

/**
 * classify on the realistic set of `items` items (see the header): per labeled share, a fresh
 * API process (so its references are the share's), p50 at 1 and 8 clients next to the bare
 * path, and the time to load the references as the API does after labels change.
 */
async function scaleRun(items: number): Promise<void> {
  const template = await augmentedTemplate(items);
  const database = `bench_api_${process.pid}`;
  const db = await workingCopy(template, database);
  const encoders = new EncoderCache(
    { db, blobs: new LocalBlobStore(benchBlobDir) },
    { dir: path.join(dir, 'models'), threads: 1 },
  );
  let api: ChildProcess | undefined;
  const stopApi = async () => {
    const exited = api && new Promise((resolve) => api!.once('exit', resolve));
    api?.kill('SIGTERM');
    await exited;
    api = undefined;
  };
  try {
    const target = (await db.projects.bySlug(SLUG))!;
    const encoderVersionId = target.encoderVersionId!;
    const encoder = await encoders.get(encoderVersionId);
    // A head as a round leaves one: every item projected into its set, published, promoted.
    const { head, weights } = await createProjectionHead(db, {
      projectId: target.id,
      encoderVersionId,
      inputDims: encoder.dims,
    });
    await db.vectorSets.create(head.id);
    log(`projecting ${items} items into the head's set`);
    const pool: string[] = [];
    for (let after: string | null = null; ;) {
      const page = await db.features.readPage({
        projectId: target.id,
        encoderVersionId,
        after,
        limit: 20_000,
      });
      if (page.length === 0) break;
      const vectors = project(
        weights,
        stackRows(
          page.map((r) => r.vector),
          encoder.dims,
        ),
        page.length,
      );
      await db.vectorSets.append(
        head.id,
        page.map((r, i) => ({
          ...r,
          embedding: vectors.subarray(i * VECTOR_DIMS, (i + 1) * VECTOR_DIMS),
        })),
      );
      pool.push(...page.filter((r) => r.split === 'POOL').map((r) => r.itemId));
      after = page.at(-1)!.itemId;
    }
    await db.vectorSets.publish(head.id);
    await db.heads.promote(head.id, { note: 'API benchmark' });
    // Queries: test images (eval items), sent as PNG files.
    const { testImages } = await loadFashionMnist();
    const images = Array.from({ length: 200 }, (_, n) => ({
      name: `test-${n}.png`,
      bytes: grayPng(28, 28, (i) => testImages[n * 28 * 28 + i]!),
    }));
    const projector = await new ProjectorCache(db, 1).get(head.id);
    const url = `http://127.0.0.1:${PORT}/graphql`;
    let authorization: string | null = null;
    const rows: Record<string, number | string>[] = [];
    const referenceLoad: Record<string, number> = {};
    let labeled = 0;
    for (const share of SHARES) {
      // The pool in item-id order (random UUIDs): its first items are a uniform sample.
      const wanted = Math.round(share * pool.length);
      const truth = await db.items.hiddenTruth(pool.slice(labeled, wanted));
      for (const itemId of pool.slice(labeled, wanted)) {
        await db.labels.append({
          projectId: target.id,
          itemId,
          labelClassId: truth.get(itemId)!,
          source: 'IMPORT',
          supersedesId: null,
        });
      }
      labeled = wanted;
      const shareName = `${share * 100}%`;
      log(`${labeled} of ${pool.length} pool items labeled (${shareName})`);
      // What the API does when labels change (Classifier.build), timed three times.
      const loads: number[] = [];
      let references: Awaited<ReturnType<typeof loadReferences>> | null = null;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        references = await loadReferences(db, { headVersionId: head.id, projectId: target.id });
        const anomaly = await loadAnomalyReferences(db, references, encoderVersionId);
        await (await scorerFor(references, { k: K, threads: 1 }, anomaly)).release();
        loads.push((performance.now() - t) / 1000);
      }
      referenceLoad[shareName] = median(loads);
      const anomaly = await loadAnomalyReferences(db, references!, encoderVersionId);
      const scorer = await scorerFor(references!, { k: K, threads: 1 }, anomaly);
      const bare = async (i: number) => {
        const raw = await encoder.embedImages([images[i % images.length]!]);
        const features = normaliseRows(stackRows(raw, encoder.dims), encoder.dims);
        const vectors = await projector.project(features, 1);
        await scorer.score(vectors, K, anomaly ? features : vectors);
      };
      api = await startApiProcess(database, benchBlobDir);
      authorization ??= await integratorKey(db, url, target.id);
      const upload = classifyUpload(url, authorization);
      const viaApi = async (i: number) => {
        const status = await upload(images[i % images.length]!);
        if (status !== 200) throw new Error(`classify answered HTTP ${status}`);
      };
      await load(8, WARMUP, bare);
      await load(8, WARMUP, viaApi);
      for (const clients of [1, 8]) {
        for (const [name, call] of [
          ['bare', bare],
          ['api', viaApi],
        ] as const) {
          log(`${shareName} labeled: ${name}, ${clients} client(s), ${REQUESTS} requests`);
          const r = await load(clients, REQUESTS, call);
          rows.push({
            labeled: shareName,
            references: references!.rows.length,
            path: name,
            clients,
            p50Ms: r.p50,
            p99Ms: r.p99,
            perSecond: r.perSecond,
          });
        }
      }
      await scorer.release();
      await stopApi();
    }
    const round2 = (x: number) => Math.round(x * 100) / 100;
    printTable(
      rows.map((r) => ({
        ...r,
        p50Ms: round2(r.p50Ms as number),
        p99Ms: round2(r.p99Ms as number),
        perSecond: round2(r.perSecond as number),
      })),
    );
    const apiP50 = (share: string) =>
      round2(
        rows.find((r) => r.labeled === share && r.path === 'api' && r.clients === 1)!
          .p50Ms as number,
      );
    const byShare = Object.fromEntries(SHARES.map((s) => [`${s * 100}%`, apiP50(`${s * 100}%`)]));
    console.log({ classifyP50MsByShare: byShare, referenceLoadSeconds: referenceLoad });
    if (items === 1_000_000) {
      const { summary = {}, ...details } = (previousResults('api') ?? {}) as {
        summary?: Record<string, unknown>;
        machine?: unknown;
      };
      delete details.machine; // this run's machine goes first, as writeResults writes it
      // The 10k run's command and date stay at the top; this run's are under `scale`.
      const file = writeResults(
        'api',
        {
          ...summary,
          targets: { ...(summary.targets as object), classifyP50Ms1M: 15 },
          classifyP50Ms1M: Math.max(...Object.values(byShare)),
          classifyP50Ms1MByShare: byShare,
          referenceLoadSeconds1M: referenceLoad,
        },
        {
          ...details,
          scale: {
            command: commandLine('api'),
            date: new Date().toISOString(),
            data: 'Fashion-MNIST with augmented copies, real encoder features (bench/lib/augmented.ts); queries: test images as PNG',
            items,
            pool: pool.length,
            k: K,
            requestsPerRun: REQUESTS,
            warmupRequestsPerPath: WARMUP,
            definitions: {
              classifyP50Ms1M: 'the larger of the API p50s at 1 client over the labeled shares',
              referenceLoadSeconds:
                'median of 3: labeled references read from the set, anomaly references, Scorer built (what the API redoes after labels change, in the background)',
            },
            referenceLoadSeconds: referenceLoad,
            rows,
          },
        },
      );
      log(`wrote ${file}`);
    }
  } finally {
    await stopApi();
    await encoders.close();
    await db.close();
    await dropDatabase(database);
  }
}

/** The 10k project: classify, classifyBase64 and classifyBatch against the bare path. */
async function standardRun(): Promise<void> {
  const database = await createEmptyDatabase('bench_api');
  log(`building ${database}: Fashion-MNIST ${LIMIT} pool + ${LIMIT} eval, ${LIMIT / 2} labeled`);
  await migrate(databaseUrl(database));
  const db = createDatabase(databaseUrl(database));
  let api: ChildProcess | undefined;
  try {
    const seeded = await seedIndexedFashionMnist(
      { db, blobs, modelsDir: path.join(dir, 'models') },
      { limit: LIMIT, labeled: LIMIT / 2, budget: 1000, slug: SLUG },
    );
    const evalItems = seeded.items.filter((i) => i.split === 'EVAL').slice(0, 200);
    const images = await Promise.all(
      evalItems.map(async (i) => ({
        name: `${i.sourceRef}.png`,
        bytes: await blobs.get(i.blobKey),
      })),
    );

    // The bare path: what classify cannot avoid doing (the references already in memory, as
    // the API holds them between requests).
    const encoders = new EncoderCache({ db, blobs }, { dir: path.join(dir, 'models'), threads: 1 });
    const encoder = await encoders.get(seeded.encoderVersionId);
    const projector = await new ProjectorCache(db, 1).get(seeded.headVersionId);
    const references = await loadReferences(db, {
      headVersionId: seeded.headVersionId,
      projectId: seeded.projectId,
    });
    const anomaly = await loadAnomalyReferences(db, references, seeded.encoderVersionId);
    const scorer = await scorerFor(references, { k: K, threads: 1 }, anomaly);
    /** Encoder, projection and Scorer for images [from, from + count), as classify does them. */
    const bareOf = async (from: number, count: number) => {
      const chunk = Array.from({ length: count }, (_, j) => images[(from + j) % images.length]!);
      const raw = await encoder.embedImages(chunk);
      const features = normaliseRows(stackRows(raw, encoder.dims), encoder.dims);
      const vectors = await projector.project(features, count);
      await scorer.score(vectors, K, anomaly ? features : vectors);
    };
    const bare = (i: number) => bareOf(i, 1);
    const bareBatch = (i: number) => bareOf(i * BATCH, BATCH);

    api = await startApiProcess(database, path.join(dir, 'blobs'));
    const url = `http://127.0.0.1:${PORT}/graphql`;
    const authorization = await integratorKey(db, url, seeded.projectId);
    let wrong = 0;
    const upload = classifyUpload(url, authorization);
    const viaApi = async (i: number) => {
      if ((await upload(images[i % images.length]!)) !== 200) wrong++;
    };

    // The same image as JSON (classifyBase64 with one image): no multipart, no file spooling.
    const base64Query = `mutation ($images: [Base64Image!]!) { classifyBase64(project: "${SLUG}", images: $images, k: ${K}) {
        labelClass { name } confidence anomalyScore neighbors { distance item { id } } } }`;
    const jsonBodies = images.map((image) =>
      Buffer.from(
        JSON.stringify({
          query: base64Query,
          variables: { images: [{ data: Buffer.from(image.bytes).toString('base64') }] },
        }),
      ),
    );
    const jsonHeaders = { authorization, 'content-type': 'application/json' };
    const viaApiJson = async (i: number) => {
      const { status } = await postBody(url, jsonHeaders, jsonBodies[i % images.length]!);
      if (status !== 200) wrong++;
    };

    const batchOperations = JSON.stringify({
      query: `mutation ($images: [Upload!]!) { classifyBatch(project: "${SLUG}", images: $images, k: ${K}) {
        labelClass { name } confidence anomalyScore neighbors { distance item { id } } } }`,
      variables: { images: Array.from({ length: BATCH }, () => null) },
    });
    // Batch i sends images from i * BATCH on, round-robin: the bodies repeat after `cycle`.
    const cycle = images.length / gcd(images.length, BATCH);
    const batchBodies = Array.from({ length: cycle }, (_, i) =>
      multipartBody(
        batchOperations,
        Array.from({ length: BATCH }, (_, j) => images[(i * BATCH + j) % images.length]!),
        (j) => `variables.images.${j}`,
      ),
    );
    const viaApiBatch = async (i: number) => {
      const { body, headers } = batchBodies[i % cycle]!;
      const { status, answer } = await postBody(url, { ...headers, authorization }, body);
      if (answer.data!.classifyBatch!.length !== BATCH)
        throw new Error('classifyBatch lost answers');
      if (status !== 200) wrong++;
    };

    log(`warming up: ${WARMUP} requests per path`);
    await load(8, WARMUP, bare);
    await load(8, WARMUP, viaApi);
    await load(8, WARMUP, viaApiJson);
    // Batches: a quarter as many requests as the single-image runs (8 times the images), BATCH
    // images each, 8 clients: enough waves that starting and draining the 8 clients do not
    // decide the rate (13 requests, as many images as a single-image run, did before 2026-12-06).
    const batchRequests = Math.max(8, Math.round(REQUESTS / 4));
    const batchWarmup = Math.max(8, Math.round(WARMUP / BATCH));
    await load(8, batchWarmup, bareBatch);
    await load(8, batchWarmup, viaApiBatch);
    const rows: {
      repeat: number;
      path: string;
      clients: number;
      p50Ms: number;
      p99Ms: number;
      meanMs: number;
      perSecond: number;
      cpuMsPerImage: number | null;
    }[] = [];
    /** Whose CPU a path spends: this process's for the bare path, the API's otherwise. */
    const cpuOf = (name: string) => (name.startsWith('bare') ? process.pid : api!.pid);
    // Every row REPEATS times, the paths taking turns, so each ratio is of two rows measured
    // seconds apart and the spread over repeats shows how much the machine moved meanwhile.
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const clients of [1, 8]) {
        for (const [name, call] of [
          ['bare', bare],
          ['api', viaApi],
          ['api-json', viaApiJson],
        ] as const) {
          log(
            `repeat ${repeat + 1}/${REPEATS}: ${name}, ${clients} client(s), ${REQUESTS} requests`,
          );
          const r = await load(clients, REQUESTS, call, cpuOf(name));
          rows.push({
            repeat,
            path: name,
            clients,
            p50Ms: r.p50,
            p99Ms: r.p99,
            meanMs: r.mean,
            perSecond: r.perSecond,
            cpuMsPerImage: r.cpuMsPerCall,
          });
        }
      }
      for (const [name, call] of [
        ['bare-batch', bareBatch],
        ['api-batch', viaApiBatch],
      ] as const) {
        log(
          `repeat ${repeat + 1}/${REPEATS}: ${name}, 8 clients, ${batchRequests} requests of ${BATCH} images`,
        );
        const r = await load(8, batchRequests, call, cpuOf(name));
        rows.push({
          repeat,
          path: name,
          clients: 8,
          p50Ms: r.p50,
          p99Ms: r.p99,
          meanMs: r.mean,
          perSecond: r.perSecond * BATCH,
          cpuMsPerImage: r.cpuMsPerCall === null ? null : r.cpuMsPerCall / BATCH,
        });
      }
    }
    const round2 = (x: number) => Math.round(x * 100) / 100;
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    /** A figure of each repeat's rows: its mean and sd over the repeats, and each value. */
    const overRepeats = (
      figure: (of: (p: string, c: number) => (typeof rows)[number]) => number,
    ) => {
      const values = Array.from({ length: REPEATS }, (_, repeat) =>
        figure((p, c) => rows.find((r) => r.repeat === repeat && r.path === p && r.clients === c)!),
      );
      const { mean, sd } = meanSd(values);
      return { mean: round2(mean), sd: round2(sd), runs: values.map(round2) };
    };
    printTable(
      rows.map((r) => ({
        repeat: r.repeat + 1,
        path: r.path,
        clients: r.clients,
        'p50 ms': round2(r.p50Ms),
        'p99 ms': round2(r.p99Ms),
        'images/s': round2(r.perSecond),
        'cpu ms/image': r.cpuMsPerImage === null ? '-' : round3(r.cpuMsPerImage),
      })),
    );
    const figures = {
      classifyP50Ms: overRepeats((of) => of('api', 1).p50Ms),
      classifyP99Ms: overRepeats((of) => of('api', 1).p99Ms),
      overheadRatio8: overRepeats((of) => of('api', 8).p50Ms / of('bare', 8).p50Ms),
      jsonClassifyP50Ms: overRepeats((of) => of('api-json', 1).p50Ms),
      jsonOverheadRatio8: overRepeats((of) => of('api-json', 8).p50Ms / of('bare', 8).p50Ms),
      throughputRatio8: overRepeats((of) => of('bare', 8).perSecond / of('api', 8).perSecond),
      batchThroughputRatio8: overRepeats(
        (of) => of('api-batch', 8).perSecond / of('bare-batch', 8).perSecond,
      ),
    };
    const cpuKnown = rows.every((r) => r.cpuMsPerImage !== null);
    const cpuRatio8 = cpuKnown
      ? overRepeats((of) => of('api', 8).cpuMsPerImage! / of('bare', 8).cpuMsPerImage!)
      : null;
    // The names carry the mean over the repeats; `…Sd` and `…Runs` beside each.
    const summary = {
      ...Object.fromEntries(
        Object.entries({ ...figures, ...(cpuRatio8 ? { cpuRatio8 } : {}) }).flatMap(([name, f]) => [
          [name, f.mean],
          [`${name}Sd`, f.sd],
          [`${name}Runs`, f.runs],
        ]),
      ),
      targets: {
        classifyP50Ms: 8,
        overheadRatio8: 1.5,
        batchThroughputRatio8: 0.8,
        classifyP50Ms1M: 15,
      },
    };
    console.log(summary);
    // A profiled run is slower: its figures are not the benchmark's.
    if (!PROFILE_DIR) {
      const previous = previousResults('api');
      const file = writeResults(
        'api',
        { ...summary, ...scaleSummary(previous) },
        {
          requestsPerRun: REQUESTS,
          warmupRequestsPerPath: WARMUP,
          repeats: REPEATS,
          batch: { images: BATCH, requests: batchRequests },
          k: K,
          project: { pool: LIMIT, eval: LIMIT, labeled: LIMIT / 2 },
          definitions: {
            bare: 'in this process: encoder (onnxruntime, 1 thread) + head projection (onnxruntime) + the Scorer over the labeled references held in memory (kNN vote and anomaly score)',
            api: 'HTTP multipart classify mutation with an API key against the API process (same work + GraphQL, upload, auth, vote, anomaly score)',
            'api-json':
              'the same image as a JSON classifyBase64 request with one image (no multipart)',
            repeats:
              "every row is measured this many times, the paths taking turns; each summary figure is the mean over the repeats of the figure computed from one repeat's rows (…Sd: its standard deviation, …Runs: each repeat's value)",
            overheadRatio8: 'api p50 / bare p50 at 8 concurrent clients',
            throughputRatio8: 'bare req/s / api req/s at 8 concurrent clients',
            cpuMsPerImage:
              'CPU time per image during the row: of the API process, all its threads (/proc/<pid>/task/*/schedstat), for api rows; of this process for bare rows (process.cpuUsage: the load generator is a small part of it)',
            cpuRatio8:
              'api cpuMsPerImage / bare cpuMsPerImage at 8 concurrent clients: the CPU the API path spends per image against the bare path, apart from how the two cores were shared',
            batchThroughputRatio8:
              'api-batch images/s / bare-batch images/s at 8 concurrent clients (perSecond of the batch rows counts images)',
          },
          rows,
          non200: wrong,
          scale: previous?.scale,
        },
      );
      await writeSvgChart(path.join(RESULTS_DIR, 'api.svg'), {
        title: `classify latency: API vs bare path (p50 and p99, mean ± sd of ${REPEATS} repeats; batches of 32 per request)`,
        data: {
          values: rows.flatMap((r) => [
            { run: `${r.path}, ${r.clients} client(s)`, stat: 'p50', ms: r.p50Ms },
            { run: `${r.path}, ${r.clients} client(s)`, stat: 'p99', ms: r.p99Ms },
          ]),
        },
        encoding: {
          x: { field: 'run', type: 'nominal', title: null },
          xOffset: { field: 'stat' },
          color: { field: 'stat', type: 'nominal' },
        },
        layer: [
          { mark: 'bar', encoding: { y: { aggregate: 'mean', field: 'ms', title: 'ms' } } },
          {
            mark: { type: 'errorbar', extent: 'stdev' },
            encoding: { y: { field: 'ms', type: 'quantitative' } },
          },
        ],
        width: 480,
        height: 260,
      });
      log(`wrote ${file} and api.svg`);
    }
    await encoders.close();
    await scorer.release();
  } finally {
    const exited = api && new Promise((resolve) => api!.once('exit', resolve));
    api?.kill('SIGTERM');
    await exited;
    await db.close();
    await dropDatabase(database);
  }
  if (PROFILE_DIR) writeProfile(PROFILE_DIR);
}

if (args.realistic) await scaleRun(Number(args.items));
else await standardRun();

/**
 * Self time of the API process's main thread (not its inference thread) by where the code lives: a package under node_modules, the
 * project's own source folder, Node's internals, or V8 (GC, native). Covers the process's
 * whole life: start-up (loading the modules through tsx, a few seconds) and every request of
 * the run (seeding excluded: the API only served the benchmark's requests).
 */
function writeProfile(dir: string) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { url: string; functionName: string }; hitCount?: number }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const where = (url: string, fn: string) => {
    const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
    if (pkg) return pkg;
    const own = url.match(/\/(apps\/[^/]+|packages\/[^/]+|workflows)\//)?.[1];
    if (own) return own;
    if (url.startsWith('node:')) return 'node internals';
    if (fn.startsWith('(')) return fn; // (idle), (garbage collector), (program)
    return fn ? `native ${fn}` : '(native)';
  };
  const micros = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id)!;
    const key = where(node.callFrame.url, node.callFrame.functionName);
    micros.set(key, (micros.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const busy = [...micros].filter(([k]) => k !== '(idle)').reduce((a, [, v]) => a + v, 0);
  const rows = [...micros]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(([where, us]) => ({ where, seconds: us / 1e6, share: us / busy }));
  printTable(
    rows.slice(0, 20).map((r) => ({
      where: r.where,
      s: r.seconds.toFixed(2),
      share: `${(r.share * 100).toFixed(1)}%`,
    })),
  );
  writeResults(
    'api-profile',
    { busySeconds: busy / 1e6 },
    {
      note: 'API main thread self time by package (models run in its inference thread, not profiled), whole bench:api run, --cpu-prof',
      rows,
    },
  );
}
