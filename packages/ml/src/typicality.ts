import { seededRandom, shuffledIndices } from './random.ts';

/**
 * TypiClust (Hacohen, Dekel and Weinshall, "Active learning on a budget", ICML 2022): with few
 * labels the most useful items are typical ones, not uncertain ones. The pool is clustered
 * into (labeled + wanted) clusters; from each of the largest clusters that hold no label yet,
 * the item in its densest spot is asked. Works without a head, so it serves the cold start.
 */

/** Neighbours whose mean distance defines an item's typicality (as in the paper). */
const TYPICALITY_K = 20;
const KMEANS_ITERATIONS = 12;
/** The paper's cap on clusters; it also bounds the cost of k-means on a large pool. */
const MAX_CLUSTERS = 500;

function squaredDistance(a: Float32Array, ai: number, b: Float32Array, bi: number, dims: number) {
  let sum = 0;
  const ao = ai * dims;
  const bo = bi * dims;
  for (let d = 0; d < dims; d++) {
    const diff = a[ao + d]! - b[bo + d]!;
    sum += diff * diff;
  }
  return sum;
}

/** Rows k-means fits on; a larger pool is fitted on a seeded sample, then assigned in full. */
const KMEANS_SAMPLE = 10_000;

/** Index of the centre nearest to row i. */
function nearestCentre(
  rows: Float32Array,
  i: number,
  centres: Float32Array,
  k: number,
  dims: number,
) {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    const d = squaredDistance(rows, i, centres, c, dims);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

/**
 * Lloyd's k-means with k-means++ seeding (seeded, so the same pool gives the same clusters).
 * Returns each row's cluster.
 */
export function kMeans(
  rows: Float32Array,
  dims: number,
  clusters: number,
  seed: number,
  iterations = KMEANS_ITERATIONS,
): Int32Array {
  const all = rows.length / dims;
  const random = seededRandom(seed);
  let fit = rows;
  if (all > KMEANS_SAMPLE) {
    const picked = shuffledIndices(all, random).slice(0, KMEANS_SAMPLE);
    fit = new Float32Array(KMEANS_SAMPLE * dims);
    picked.forEach((r, i) => fit.set(rows.subarray(r * dims, (r + 1) * dims), i * dims));
  }
  const n = fit.length / dims;
  const k = Math.max(1, Math.min(clusters, n));
  const centres = new Float32Array(k * dims);
  // k-means++: each next centre drawn in proportion to its squared distance to the nearest.
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let pick = Math.floor(random() * n);
  for (let c = 0; c < k; c++) {
    centres.set(fit.subarray(pick * dims, (pick + 1) * dims), c * dims);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = squaredDistance(fit, i, centres, c, dims);
      if (d < nearest[i]!) nearest[i] = d;
      total += nearest[i]!;
    }
    let target = random() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i]!;
      if (target <= 0) {
        pick = i;
        break;
      }
    }
  }
  const assignment = new Int32Array(n).fill(-1);
  for (let iteration = 0; iteration < iterations; iteration++) {
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const best = nearestCentre(fit, i, centres, k, dims);
      if (assignment[i] !== best) moved++;
      assignment[i] = best;
    }
    if (moved === 0) break;
    const sums = new Float64Array(k * dims);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = assignment[i]!;
      counts[c]!++;
      for (let d = 0; d < dims; d++) sums[c * dims + d]! += fit[i * dims + d]!;
    }
    for (let c = 0; c < k; c++) {
      // An emptied cluster keeps its centre.
      if (counts[c] === 0) continue;
      for (let d = 0; d < dims; d++) centres[c * dims + d] = sums[c * dims + d]! / counts[c]!;
    }
  }
  if (fit === rows) return assignment;
  return Int32Array.from({ length: all }, (_, i) => nearestCentre(rows, i, centres, k, dims));
}

/** Inverse mean distance to the nearest TYPICALITY_K members of the same cluster. */
function typicality(rows: Float32Array, dims: number, members: number[], i: number): number {
  if (members.length < 2) return 0;
  const distances = members
    .filter((j) => j !== i)
    .map((j) => Math.sqrt(squaredDistance(rows, i, rows, j, dims)))
    .sort((a, b) => a - b)
    .slice(0, TYPICALITY_K);
  const mean = distances.reduce((s, d) => s + d, 0) / distances.length;
  return 1 / (mean + 1e-9);
}

/**
 * Up to `take` row indices to label, most useful first: the most typical unlabeled row of each
 * of the largest clusters without a label, then of clusters with the fewest labels.
 */
export function selectTypical(
  rows: Float32Array,
  dims: number,
  labeled: ArrayLike<boolean>,
  take: number,
  seed = 0,
): number[] {
  const n = rows.length / dims;
  let labeledCount = 0;
  for (let i = 0; i < n; i++) if (labeled[i]) labeledCount++;
  const want = Math.min(take, n - labeledCount);
  if (want <= 0) return [];
  const assignment = kMeans(rows, dims, Math.min(MAX_CLUSTERS, labeledCount + want), seed);
  const clusters = new Map<number, { members: number[]; labels: number }>();
  for (let i = 0; i < n; i++) {
    const c = assignment[i]!;
    const cluster = clusters.get(c) ?? { members: [], labels: 0 };
    cluster.members.push(i);
    if (labeled[i]) cluster.labels++;
    clusters.set(c, cluster);
  }
  // Uncovered first, then the least covered; larger before smaller; ties by cluster number.
  // Each cluster's unlabeled rows, most typical first (computed once).
  const ranked = [...clusters.entries()]
    .sort(
      ([ca, a], [cb, b]) => a.labels - b.labels || b.members.length - a.members.length || ca - cb,
    )
    .map(([, cluster]) =>
      cluster.members
        .filter((i) => !labeled[i])
        .map((i) => ({ i, score: typicality(rows, dims, cluster.members, i) }))
        .sort((a, b) => b.score - a.score || a.i - b.i)
        .map((r) => r.i),
    );
  // One per cluster in turn, more than one pass when there are fewer clusters than wanted.
  const chosen: number[] = [];
  for (let pass = 0; chosen.length < want; pass++) {
    const before = chosen.length;
    for (const members of ranked) {
      if (chosen.length >= want) break;
      if (pass < members.length) chosen.push(members[pass]!);
    }
    if (chosen.length === before) break;
  }
  return chosen;
}
