// kNN search: pgvector HNSW queries per second and recall@10 against exact
// search, with the index build time, on the platform's own path (a published vector set,
// `knn` with a split filter, as classify asks). Vectors: the backbone features of the round
// benchmark's templates, 128-d unit vectors used as they are: all of Fashion-MNIST (70k,
// real encoder output), the synthetic set (--items 1000000, the worst case), or the realistic
// set (--realistic: Fashion-MNIST grown to --items, default 1M, with augmented copies, all
// embedded by the real encoder; bench/lib/augmented.ts has the recipe).
//
//   npm run bench:knn [-- --items 1000000] [-- --realistic] [-- --queries 200]
//
// Needs the template that `npm run bench:round [-- --items N]` builds on its first run; the
// realistic one is built here on the first run (about 10 minutes at 1M).
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { databaseExists, dropDatabase } from '../tooling/testing/src/index.ts';
import { writeSvgChart } from './lib/chart.ts';
import { AUGMENTED_SLUG, augmentedTemplate } from './lib/augmented.ts';
import { log } from './lib/fashion-mnist.ts';
import { workingCopy } from './lib/platform.ts';
import {
  commandLine,
  median,
  printTable,
  RESULTS_DIR,
  withRun,
  writeResults,
} from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    items: { type: 'string' },
    realistic: { type: 'boolean', default: false },
    queries: { type: 'string', default: '200' },
  },
});
const REALISTIC = args.realistic ? Number(args.items ?? 1_000_000) : null;
const SYNTHETIC = !REALISTIC && args.items ? Number(args.items) : null;
const QUERIES = Number(args.queries);
const TEMPLATE = REALISTIC
  ? `bench_fashion_mnist_augmented_${REALISTIC}`
  : SYNTHETIC
    ? `bench_round_synthetic_${SYNTHETIC}`
    : 'bench_round_fashion_mnist';
const K = 10;
const EF_SEARCH = [40, 100, 200, 400];

if (REALISTIC) {
  await augmentedTemplate(REALISTIC);
} else if (!(await databaseExists(TEMPLATE))) {
  throw new Error(
    `no template ${TEMPLATE}: run \`npm run bench:round${SYNTHETIC ? ` -- --items ${SYNTHETIC}` : ''}\` once first (it builds it)`,
  );
}
const database = `bench_knn_${process.pid}`;
const db = await workingCopy(TEMPLATE, database);

interface KnnRun {
  command: string;
  date: string;
  data: string;
  vectors: number;
  buildSeconds: number;
  queries: number;
  rows: { efSearch: number; recallAt10: number; qps: number; p50Ms: number; p99Ms: number }[];
}

try {
  const [project] = REALISTIC
    ? [await db.projects.bySlug(AUGMENTED_SLUG)]
    : await db.projects.list();
  if (!project) throw new Error(`${TEMPLATE} has no project`);
  const head = await db.heads.create({
    projectId: project.id,
    encoderVersionId: project.encoderVersionId!,
    kind: 'LINEAR',
    inputDims: 128,
    outputDims: 128,
    weights: new Uint8Array(0),
    config: { note: 'kNN benchmark: features used as vectors' },
  });
  await db.vectorSets.create(head.id);
  let after: string | null = null;
  let vectors = 0;
  for (;;) {
    const page = await db.features.readPage({
      projectId: project.id,
      encoderVersionId: project.encoderVersionId!,
      after,
      limit: 10_000,
    });
    if (page.length === 0) break;
    vectors += await db.vectorSets.append(
      head.id,
      page.map((r) => ({ ...r, embedding: r.vector })),
    );
    after = page.at(-1)!.itemId;
  }
  log(`${vectors} vectors stored; building the HNSW index`);
  const buildStarted = performance.now();
  await db.vectorSets.publish(head.id);
  await db.heads.promote(head.id, { note: 'kNN benchmark' });
  await db.vectorSets.buildSearchIndex(head.id);
  if (!(await db.vectorSets.useForSearch(head.id))) throw new Error('the index does not answer');
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  log(`index built and attached in ${buildSeconds.toFixed(1)} s`);

  // Queries: eval items' vectors against the pool, as `similar` compares a new image with it;
  // a sample ordered by a hash of the item id, the same from run to run on one template.
  const md5 = (id: string) => createHash('md5').update(id).digest('hex');
  const embeddings = (await db.vectorSets.readPage({ headVersionId: head.id, splits: ['EVAL'] }))
    .map((r) => ({ key: md5(r.itemId), vector: r.vector }))
    .sort((a, b) => a.key.localeCompare(b.key))
    .slice(0, QUERIES)
    .map((r) => r.vector);
  const query = (embedding: Float32Array) => ({
    projectId: project.id,
    embedding,
    k: K,
    filter: { splits: ['POOL' as const] },
  });
  log(`exact answers for ${embeddings.length} queries`);
  const truth: Set<string>[] = [];
  for (const e of embeddings) {
    truth.push(new Set((await db.knn.exact(query(e))).map((n) => n.itemId)));
  }
  const rows: KnnRun['rows'] = [];
  for (const efSearch of EF_SEARCH) {
    const latencies: number[] = [];
    let hits = 0;
    const started = performance.now();
    for (const [i, e] of embeddings.entries()) {
      const t = performance.now();
      const found = await db.knn.search({ ...query(e), efSearch });
      latencies.push(performance.now() - t);
      hits += found.filter((n) => truth[i]!.has(n.itemId)).length;
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    rows.push({
      efSearch,
      recallAt10: hits / (embeddings.length * K),
      qps: embeddings.length / seconds,
      p50Ms: median(latencies),
      p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))]!,
    });
  }
  printTable(
    rows.map((r) => ({
      ef_search: r.efSearch,
      'recall@10': r.recallAt10.toFixed(3),
      'queries/s (1 client)': r.qps.toFixed(1),
      'p50 ms': r.p50Ms.toFixed(2),
      'p99 ms': r.p99Ms.toFixed(2),
    })),
  );
  const runs = withRun<KnnRun>('knn', REALISTIC ? `realistic-${vectors}` : String(vectors), {
    command: commandLine('knn'),
    date: new Date().toISOString(),
    data: REALISTIC
      ? 'Fashion-MNIST with augmented copies, real encoder features (queries: test images)'
      : SYNTHETIC
        ? 'synthetic'
        : 'Fashion-MNIST encoder features',
    vectors,
    buildSeconds,
    queries: embeddings.length,
    rows,
  });
  const at = (key: string, ef: number) => runs[key]?.rows.find((r) => r.efSearch === ef);
  const file = writeResults(
    'knn',
    {
      recallAt10_70k: at('70000', 100)?.recallAt10 ?? null,
      qps70k: at('70000', 100)?.qps ?? null,
      buildSeconds70k: runs['70000']?.buildSeconds ?? null,
      recallAt10Realistic1M: at('realistic-1000000', 100)?.recallAt10 ?? null,
      qpsRealistic1M: at('realistic-1000000', 100)?.qps ?? null,
      buildSecondsRealistic1M: runs['realistic-1000000']?.buildSeconds ?? null,
      recallAt10_1M: at('1000000', 100)?.recallAt10 ?? null,
      qps1M: at('1000000', 100)?.qps ?? null,
      buildSeconds1M: runs['1000000']?.buildSeconds ?? null,
      note: 'at ef_search 100, the platform default; every ef_search measured is under runs; 1M without "Realistic" is the synthetic worst case',
    },
    { runs },
  );
  await writeSvgChart(path.join(RESULTS_DIR, 'knn.svg'), {
    title: 'HNSW kNN (k = 10, pool filter): recall@10 against queries per second, by ef_search',
    width: 420,
    height: 240,
    data: {
      values: Object.values(runs).flatMap((run) =>
        run.rows.map((r) => ({
          ...r,
          set: `${run.vectors} vectors, ${run.data.startsWith('Fashion-MNIST with') ? 'realistic' : run.data === 'synthetic' ? 'synthetic' : 'Fashion-MNIST'}`,
        })),
      ),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'qps', type: 'quantitative', title: 'queries per second (1 client)' },
      y: {
        field: 'recallAt10',
        type: 'quantitative',
        title: 'recall@10',
        scale: { zero: false },
      },
      color: { field: 'set', type: 'nominal', title: null },
      order: { field: 'efSearch', type: 'quantitative' },
    },
  });
  log(`wrote ${file} and knn.svg`);
} finally {
  await db.close();
  await dropDatabase(database);
}
