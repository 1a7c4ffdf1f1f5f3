// Screen of a semi-supervised lever before it goes into the platform: label propagation over
// the kNN graph of a project's items against the platform's kNN vote, on backbone features,
// with the same random labels. Library level (no rounds, no head): it says whether the lever
// is worth building into the rounds, not what the platform gains.
//
// The graph joins every pool and eval item (a project holds both; neither needs a label to be
// in it) by its 10 nearest neighbours, symmetrised, weights = cosine similarity ^ 3; label
// spreading (Zhou et al. 2004: F <- a S F + (1 - a) Y, S = D^-1/2 W D^-1/2, a = 0.99, 20 steps)
// then predicts each eval item's class as the argmax of F. Both methods get the same labeled
// pool items per seed and label count.
//
//   npm run bench:label-propagation -- [--pool 8000] [--seeds 0,1,2]
//                                      [--labels 100,200,425,600,1000]
//                                      [--encoder models/fashion-mnist-dae] [--head]
//
// --head screens the lever the platform would use: propagated labels of unlabeled pool items
// as extra head-training examples (pseudo-labels; all of them, or the most confident share).
// Each head is trained as a round trains it (the platform's trainHead, seeded per seed and
// label count) and scored as a round scores it: the kNN vote in head space over the labeled
// pool items only.
//
// Results: bench/results/label-propagation.json (one entry per pool and encoder under runs).
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  classificationReport,
  pickRows,
  ReferenceSearch,
  seededRandom,
  shuffledIndices,
} from '@beanstalk/ml';
import {
  backboneFeatures,
  CLASSES,
  loadEncoder,
  loadFashionMnist,
  log,
} from './lib/fashion-mnist.ts';
import { headKnnScore, knnScore } from './lib/knn.ts';
import { commandLine, meanSd, printTable, withRun, writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    pool: { type: 'string', default: '8000' },
    seeds: { type: 'string', default: '0,1,2' },
    labels: { type: 'string', default: '100,200,425,600,1000' },
    encoder: { type: 'string', default: 'models/fashion-mnist-dae' },
    head: { type: 'boolean', default: false },
  },
});
const POOL = Number(args.pool);
if (!(Number.isInteger(POOL) && POOL >= 1000 && POOL <= 60_000)) {
  throw new Error(`--pool must be 1000..60000 (got ${args.pool})`);
}
const SEEDS = args.seeds!.split(',').map(Number);
const LABELS = args.labels!.split(',').map(Number);
const GRAPH_K = 10;
const ALPHA = 0.99;
const STEPS = 20;
const began = Date.now();

const data = await loadFashionMnist();
const EVAL = Math.min(POOL, 10_000);
const encoder = await loadEncoder(args.encoder!);
const dims = encoder.dims;
const pool = await backboneFeatures(encoder, data.trainImages, POOL);
const evalRows = await backboneFeatures(encoder, data.testImages, EVAL);
const truth = data.testLabels.subarray(0, EVAL);
log(`features: ${POOL} pool + ${EVAL} eval, ${dims} dims (${args.encoder})`);

// The kNN graph over all items (pool first, then eval), by exact search.
const all = new Float32Array((POOL + EVAL) * dims);
all.set(pool);
all.set(evalRows, POOL * dims);
const n = POOL + EVAL;
const search = await ReferenceSearch.create(all, dims, GRAPH_K + 1);
const neighbour = new Int32Array(n * GRAPH_K);
const weight = new Float32Array(n * GRAPH_K);
for (let start = 0; start < n; start += 1024) {
  const rows = Math.min(1024, n - start);
  const found = await search.search(all.subarray(start * dims, (start + rows) * dims));
  for (let q = 0; q < rows; q++) {
    let j = 0;
    for (let m = 0; m <= GRAPH_K && j < GRAPH_K; m++) {
      const at = found.index[q * (GRAPH_K + 1) + m]!;
      if (at === start + q) continue; // itself
      neighbour[(start + q) * GRAPH_K + j] = at;
      weight[(start + q) * GRAPH_K + j] =
        Math.max(0, 1 - found.distance[q * (GRAPH_K + 1) + m]!) ** 3;
      j++;
    }
  }
}
await search.release();
// Symmetrised: an edge either way counts both ways (W + W^T), as adjacency lists.
const edges: { to: number[]; w: number[] }[] = Array.from({ length: n }, () => ({
  to: [],
  w: [],
}));
for (let i = 0; i < n; i++) {
  for (let j = 0; j < GRAPH_K; j++) {
    const to = neighbour[i * GRAPH_K + j]!;
    const w = weight[i * GRAPH_K + j]!;
    edges[i]!.to.push(to);
    edges[i]!.w.push(w);
    edges[to]!.to.push(i);
    edges[to]!.w.push(w);
  }
}
const degree = Float64Array.from(edges, (e) => e.w.reduce((s, w) => s + w, 0));
log(`graph: ${n} items, ${GRAPH_K} neighbours each, ${((Date.now() - began) / 1000).toFixed(0)} s`);

/** Label spreading from the labeled pool items: every item's class scores (n x CLASSES). */
function spread(labeled: number[], classes: number[]): Float64Array {
  const y = new Float64Array(n * CLASSES);
  labeled.forEach((item, i) => (y[item * CLASSES + classes[i]!] = 1));
  let f = Float64Array.from(y);
  for (let step = 0; step < STEPS; step++) {
    const next = new Float64Array(n * CLASSES);
    for (let i = 0; i < n; i++) {
      const di = degree[i]! > 0 ? 1 / Math.sqrt(degree[i]!) : 0;
      const { to, w } = edges[i]!;
      for (let e = 0; e < to.length; e++) {
        const t = to[e]!;
        const s = (w[e]! * di) / Math.sqrt(degree[t]! || 1);
        for (let c = 0; c < CLASSES; c++) {
          next[i * CLASSES + c] = next[i * CLASSES + c]! + s * f[t * CLASSES + c]!;
        }
      }
      for (let c = 0; c < CLASSES; c++) {
        next[i * CLASSES + c] = ALPHA * next[i * CLASSES + c]! + (1 - ALPHA) * y[i * CLASSES + c]!;
      }
    }
    f = next;
  }
  return f;
}

/** Argmax class and its share of the item's scores (0 where nothing reached it). */
function argmax(f: Float64Array, item: number): { label: number; confidence: number } {
  let best = 0;
  let sum = 0;
  for (let c = 0; c < CLASSES; c++) {
    sum += f[item * CLASSES + c]!;
    if (f[item * CLASSES + c]! > f[item * CLASSES + best]!) best = c;
  }
  return { label: best, confidence: sum > 0 ? f[item * CLASSES + best]! / sum : 0 };
}

/** Shares of the unlabeled pool, most confident first, given to the head as pseudo-labels. */
const PSEUDO_SHARES = [1, 0.3];

/** Macro-F1 of the kNN vote in the space of a head trained on the labels (+ pseudo-labels). */
function headScore(
  labeled: number[],
  classes: number[],
  seed: number,
  pseudo?: { items: number[]; labels: number[] },
): Promise<number> {
  return headKnnScore(
    pickRows(pool, dims, labeled),
    classes,
    evalRows,
    dims,
    truth,
    seed,
    pseudo && {
      features: pickRows(pool, dims, pseudo.items),
      labels: Int32Array.from(pseudo.labels),
    },
  );
}

interface Point {
  seed: number;
  labels: number;
  knn: number;
  propagation: number;
  /** --head: the head on the labels alone, and with each share of pseudo-labels. */
  head?: number;
  headPseudo?: Record<string, number>;
  pseudoAccuracy?: Record<string, number>;
}
const points: Point[] = [];
for (const seed of SEEDS) {
  // One draw per seed; each label count takes its first items (the same for both methods).
  const order = shuffledIndices(POOL, seededRandom(7919 * (seed + 1)));
  for (const count of LABELS) {
    const labeled = order.slice(0, count);
    const classes = labeled.map((i) => data.trainLabels[i]!);
    const references = new Float32Array(count * dims);
    labeled.forEach((item, i) =>
      references.set(pool.subarray(item * dims, (item + 1) * dims), i * dims),
    );
    const knn = await knnScore(references, classes, evalRows, dims, truth);
    const f = spread(labeled, classes);
    const propagated = classificationReport(
      truth,
      Array.from({ length: EVAL }, (_, q) => argmax(f, POOL + q).label),
      CLASSES,
    );
    const point: Point = {
      seed,
      labels: count,
      knn: knn.macroF1,
      propagation: propagated.macroF1,
    };
    if (args.head) {
      point.head = await headScore(labeled, classes, seed);
      point.headPseudo = {};
      point.pseudoAccuracy = {};
      const isLabeled = new Set(labeled);
      const ranked = Array.from({ length: POOL }, (_, i) => i)
        .filter((i) => !isLabeled.has(i))
        .map((i) => ({ item: i, ...argmax(f, i) }))
        .sort((a, b) => b.confidence - a.confidence || a.item - b.item);
      for (const share of PSEUDO_SHARES) {
        const taken = ranked.slice(0, Math.round(ranked.length * share));
        const pseudo = { items: taken.map((t) => t.item), labels: taken.map((t) => t.label) };
        point.headPseudo[share] = await headScore(labeled, classes, seed, pseudo);
        point.pseudoAccuracy[share] =
          taken.filter((t) => t.label === data.trainLabels[t.item]).length / taken.length;
      }
    }
    points.push(point);
    log(
      `seed ${seed}, ${count} labels: kNN ${knn.macroF1.toFixed(3)}, propagation ${propagated.macroF1.toFixed(3)}` +
        (point.head === undefined
          ? ''
          : `, head ${point.head.toFixed(3)}, with pseudo-labels ${PSEUDO_SHARES.map((s) => `${s}: ${point.headPseudo![s]!.toFixed(3)} (${point.pseudoAccuracy![s]!.toFixed(3)} right)`).join(', ')}`),
    );
  }
}

const stats = meanSd;
const series = LABELS.map((count) => {
  const at = points.filter((p) => p.labels === count);
  return {
    labels: count,
    knn: stats(at.map((p) => p.knn)),
    propagation: stats(at.map((p) => p.propagation)),
    // Paired by seed: the same labels for both.
    gain: stats(at.map((p) => p.propagation - p.knn)),
    ...(args.head && {
      head: stats(at.map((p) => p.head!)),
      // Per pseudo-label share: the head's macro-F1, its paired gain over the head on the labels
      // alone, and how many of the pseudo-labels were right (against the pool's true classes).
      pseudo: PSEUDO_SHARES.map((share) => ({
        share,
        head: stats(at.map((p) => p.headPseudo![share]!)),
        gain: stats(at.map((p) => p.headPseudo![share]! - p.head!)),
        accuracy: stats(at.map((p) => p.pseudoAccuracy![share]!)),
      })),
    }),
  };
});
printTable(
  series.map((s) => ({
    labels: s.labels,
    'kNN vote': `${s.knn.mean.toFixed(3)} ± ${s.knn.sd.toFixed(3)}`,
    'label propagation': `${s.propagation.mean.toFixed(3)} ± ${s.propagation.sd.toFixed(3)}`,
    'gain (paired)': `${s.gain.mean >= 0 ? '+' : ''}${s.gain.mean.toFixed(3)} ± ${s.gain.sd.toFixed(3)}`,
    ...(s.head && {
      head: `${s.head.mean.toFixed(3)} ± ${s.head.sd.toFixed(3)}`,
      ...Object.fromEntries(
        s.pseudo!.map((x) => [
          `head + pseudo ${x.share}`,
          `${x.head.mean.toFixed(3)} (${x.gain.mean >= 0 ? '+' : ''}${x.gain.mean.toFixed(3)} ± ${x.gain.sd.toFixed(3)})`,
        ]),
      ),
    }),
  })),
);
const key = `${POOL}-${path.basename(args.encoder!)}`;
const runs = withRun('label-propagation', key, {
  command: commandLine('label-propagation'),
  date: new Date().toISOString(),
  pool: POOL,
  eval: EVAL,
  encoder: args.encoder,
  seeds: SEEDS,
  graph: { k: GRAPH_K, weight: 'cosine similarity ^ 3', alpha: ALPHA, steps: STEPS },
  pseudoShares: args.head ? PSEUDO_SHARES : null,
  truth: 'macro-F1 of all eval items against their true classes (library level, no rounds)',
  minutes: (Date.now() - began) / 60_000,
  series,
  points,
});
// Per run (pool and encoder): the paired gain at 200, 425 and 600 labels.
const gains = (count: number) =>
  Object.fromEntries(
    Object.entries(runs).map(([k, r]) => [
      k,
      r.series.find((x) => x.labels === count)?.gain.mean ?? null,
    ]),
  );
writeResults(
  'label-propagation',
  { gainAt200: gains(200), gainAt425: gains(425), gainAt600: gains(600) },
  { runs },
);
log('wrote bench/results/label-propagation.json');
