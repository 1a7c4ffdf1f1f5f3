// The one place a query vector becomes a prediction: the kNN vote over labeled references
// and the calibrated anomaly score. The round's pool scoring, `classify`, auto-accept,
// evaluation and every benchmark go through `Scorer`, so the same item gets the same answer
// whichever path asks.
import type * as ort from 'onnxruntime-node';
import type { InferenceThread, Step, StepOutput } from './inference-thread.ts';
import { ReferenceSearch } from './knn-onnx.ts';
import { nearestNeighbours, pickRows } from './exact-knn.ts';
import { thresholdForPrecision } from './threshold.ts';

/** One labeled reference found near a query: its class index and cosine distance. */
export interface Reference {
  classIndex: number;
  distance: number;
}

export interface Vote {
  /** Class probabilities, summing to 1. */
  probabilities: Float64Array;
  predicted: number;
  /** Probability of the predicted class. */
  confidence: number;
  /** Top probability minus the runner-up: small means the vote was close. */
  margin: number;
  /** Shannon entropy of the probabilities, in nats. */
  entropy: number;
}

/**
 * Distance-weighted vote over the k nearest labeled references. Weights fall off as
 * 1 / (distance + epsilon) so an exact match dominates; the result is a distribution over
 * classes, from which confidence, margin and entropy follow. Decided at query time, so k and
 * thresholds can change without retraining.
 */
export function vote(neighbours: Reference[], classes: number, epsilon = 1e-3): Vote {
  const probabilities = new Float64Array(classes);
  if (neighbours.length === 0) {
    probabilities.fill(1 / classes);
  } else {
    for (const n of neighbours) {
      if (n.classIndex < 0 || n.classIndex >= classes) {
        throw new RangeError(`class index ${n.classIndex} is outside 0..${classes - 1}`);
      }
      probabilities[n.classIndex]! += 1 / (Math.max(0, n.distance) + epsilon);
    }
    const total = probabilities.reduce((a, b) => a + b, 0);
    for (let c = 0; c < classes; c++) probabilities[c]! /= total;
  }
  let predicted = 0;
  for (let c = 1; c < classes; c++)
    if (probabilities[c]! > probabilities[predicted]!) predicted = c;
  let runnerUp = 0;
  for (let c = 0; c < classes; c++) {
    if (c !== predicted && probabilities[c]! > runnerUp) runnerUp = probabilities[c]!;
  }
  let entropy = 0;
  for (const p of probabilities) if (p > 0) entropy -= p * Math.log(p);
  const confidence = probabilities[predicted]!;
  return { probabilities, predicted, confidence, margin: confidence - runnerUp, entropy };
}

/**
 * Raw anomaly score: mean cosine distance to the nearest references of the classes counted as
 * normal. Larger is more unusual; anomalyCalibration turns it into a rank in [0, 1].
 */
export function anomalyDistance(normalNeighbours: Reference[], k = 5): number {
  if (normalNeighbours.length === 0) return 2;
  const nearest = [...normalNeighbours].sort((a, b) => a.distance - b.distance).slice(0, k);
  return nearest.reduce((sum, n) => sum + n.distance, 0) / nearest.length;
}

/**
 * Maps raw anomaly distances to [0, 1] by their rank among held-out normal items' distances:
 * 0.95 means more unusual than 95% of known-normal items.
 */
export function anomalyCalibration(heldOutNormalDistances: number[]): (distance: number) => number {
  const sorted = Float64Array.from(heldOutNormalDistances).sort();
  return (distance) => {
    if (sorted.length === 0) return Math.min(1, distance / 2);
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= distance) lo = mid + 1;
      else hi = mid;
    }
    return lo / sorted.length;
  };
}

/** kNN classification of queries against labeled references: one vote per query. */
export function knnClassify(
  references: Float32Array,
  referenceLabels: ArrayLike<number>,
  queries: Float32Array,
  dims: number,
  k: number,
  classes: number,
): Vote[] {
  const { index, distance } = nearestNeighbours(references, queries, dims, k);
  const kk = index.length / (queries.length / dims);
  return Array.from({ length: queries.length / dims }, (_, q) =>
    vote(
      Array.from({ length: kk }, (_, j) => ({
        classIndex: referenceLabels[index[q * kk + j]!]!,
        distance: distance[q * kk + j]!,
      })),
      classes,
    ),
  );
}

/** Nearest normal references averaged into the raw anomaly distance. */
export const ANOMALY_K = 5;

/** Normal references whose leave-one-out distances calibrate the anomaly score, at most. */
export const CALIBRATION_SAMPLE = 2000;

/** Labeled reference vectors of one space (a head's projection, or backbone features). */
export interface References {
  /** Row-major, `dims` L2-normalised values per reference. */
  vectors: Float32Array;
  dims: number;
  /** Class index of each reference. */
  labels: ArrayLike<number>;
  /** Per class index: whether the class counts as normal for anomaly scoring. */
  normal: readonly boolean[];
}

export interface Score {
  vote: Vote;
  /** 0..1: the share of known-normal references that look less unusual than the query. */
  anomalyScore: number;
  /** The k nearest references (indices into References), nearest first. */
  neighbours: { index: number; distance: number }[];
}

/** Drops `self` from a neighbour list (or its farthest entry when `self` is not in it). */
function withoutSelf<T extends { index: number }>(list: T[], self: number): T[] {
  const at = list.findIndex((n) => n.index === self);
  return at >= 0 ? list.filter((_, i) => i !== at) : list.slice(0, -1);
}

/** Below this cosine distance an unlabeled anomaly reference is the query itself. */
const SELF_DISTANCE = 1e-6;

/**
 * Normal labeled items below which the anomaly score also compares with an unlabeled pool
 * sample. Measured by bench:anomaly (backbone space, pool with 5% anomalies, 3 seeds, two
 * encoders): with 10 labeled normal items, those alone beat the pool sample where several
 * classes are normal (+0.04 to +0.05 AUROC) and are within -0.02..+0.01 of it where one is;
 * from 20 on they are as good or better in both.
 */
export const MIN_NORMAL_LABELS = 10;

/** Unlabeled pool items the anomaly score compares against while MIN_NORMAL_LABELS is unmet. */
export const POOL_ANOMALY_SAMPLE = 2000;

/**
 * What the anomaly score compares a query with, in one vector space (the platform uses the
 * encoder's backbone space: a head trained on the normal classes pulls an unseen defect onto
 * the nearest normal class, measured in bench:anomaly). The first `labeled` rows are labeled
 * normal items; the rest, if any, an unlabeled pool sample: on a production line most parts
 * are good, so the pool's density says what usual looks like before anyone has labeled a
 * normal item.
 */
export interface AnomalyReferences {
  /** Row-major, `dims` L2-normalised values per row. */
  vectors: Float32Array;
  dims: number;
  labeled: number;
}

/** The anomaly references a reference set implies in its own space: its normal rows. */
function normalRowsOf(references: References): AnomalyReferences {
  const { vectors, dims, labels, normal } = references;
  const rows = Array.from(labels, (c, i) => (normal[c] ? i : -1)).filter((i) => i >= 0);
  return { vectors: pickRows(vectors, dims, rows), dims, labeled: rows.length };
}

/**
 * kNN vote and anomaly score against a fixed set of labeled references. Search is exact
 * (onnxruntime MatMul + TopK), so results do not depend on an index's recall. The anomaly
 * score is the rank of a query's mean distance to its ANOMALY_K nearest anomaly references
 * among the same distance of (up to CALIBRATION_SAMPLE) anomaly references to the others
 * (with ANOMALY_K or fewer: the raw distance / 2).
 */
export class Scorer {
  /** Built on the first query with k above `k` (TopK over more neighbours costs per query). */
  private wide: Promise<ReferenceSearch> | null = null;

  private constructor(
    readonly references: References,
    readonly k: number,
    readonly maxK: number,
    private readonly all: ReferenceSearch,
    private readonly anomalySearch: ReferenceSearch,
    private readonly anomaly: AnomalyReferences,
    private readonly calibrate: (distance: number) => number,
    private readonly placement: { threads: number; thread?: InferenceThread },
  ) {}

  /**
   * `k`: the neighbours most queries ask for; `maxK` (default `k`): the most any may ask for.
   * A query above `k` is answered by a second search built when first needed, so the usual
   * query does not pay for the widest one's TopK (measured: 32 queries over 5 000 references
   * took 1.0 ms at k 10 and 3.4–4.7 ms at k 100, one thread).
   * `threads`: onnxruntime intra-op threads (0 lets it decide; 1 suits per-request use);
   * `thread`: the InferenceThread its searches run in (default: the calling thread).
   * `anomaly`: what anomaly scores compare against (default: the references of normal
   * classes, in their space); a query that is one of its unlabeled rows is not its own
   * neighbour.
   */
  static async create(
    references: References,
    options: {
      k: number;
      maxK?: number;
      threads?: number;
      thread?: InferenceThread;
      anomaly?: AnomalyReferences;
    },
  ): Promise<Scorer> {
    const { vectors, dims, labels } = references;
    if (vectors.length !== labels.length * dims) {
      throw new RangeError(`${vectors.length} values are not ${labels.length} rows of ${dims}`);
    }
    const anomaly = options.anomaly ?? normalRowsOf(references);
    if (anomaly.vectors.length % anomaly.dims !== 0) {
      throw new RangeError(
        `${anomaly.vectors.length} anomaly values are not rows of ${anomaly.dims}`,
      );
    }
    const placement = { threads: options.threads ?? 0, thread: options.thread };
    const anomalyRows = anomaly.vectors.length / anomaly.dims;
    // One extra neighbour, so the calibration can leave each reference's own row out (and a
    // pool item scored against a sample that holds it can drop itself).
    const [all, anomalySearch] = await Promise.all([
      ReferenceSearch.create(vectors, dims, options.k + 1, placement.threads, placement.thread),
      ReferenceSearch.create(
        anomaly.vectors,
        anomaly.dims,
        ANOMALY_K + 1,
        placement.threads,
        placement.thread,
      ),
    ]);
    let calibrate = anomalyCalibration([]);
    if (anomalyRows > ANOMALY_K) {
      // At most CALIBRATION_SAMPLE anomaly references, evenly spaced, each scored against all
      // the others: the rank needs no finer steps, and the cost stays linear in the set.
      const step = Math.max(1, Math.ceil(anomalyRows / CALIBRATION_SAMPLE));
      const sample = Array.from({ length: Math.ceil(anomalyRows / step) }, (_, i) => i * step);
      const found = await anomalySearch.search(pickRows(anomaly.vectors, anomaly.dims, sample));
      const per = anomalySearch.neighbours;
      calibrate = anomalyCalibration(
        sample.map((self, q) =>
          anomalyDistance(
            withoutSelf(neighbourList(found, q, per), self).map((n) => ({
              classIndex: 0,
              distance: n.distance,
            })),
            ANOMALY_K,
          ),
        ),
      );
    }
    return new Scorer(
      references,
      options.k,
      Math.max(options.k, options.maxK ?? options.k),
      all,
      anomalySearch,
      anomaly,
      calibrate,
      placement,
    );
  }

  /** The search that finds at least k neighbours. */
  private searchFor(k: number): Promise<ReferenceSearch> {
    if (k <= this.k) return Promise.resolve(this.all);
    const { vectors, dims } = this.references;
    if (!this.wide) {
      const { threads, thread } = this.placement;
      const wide = ReferenceSearch.create(vectors, dims, this.maxK + 1, threads, thread);
      // A failed build is tried again by the next query, not remembered.
      wide.catch(() => {
        if (this.wide === wide) this.wide = null;
      });
      this.wide = wide;
    }
    return this.wide;
  }

  get size(): number {
    return this.references.labels.length;
  }

  /**
   * Vote, anomaly score and nearest references for each query row; `k` (at most the
   * scorer's) votes with fewer neighbours, as a scorer built with that k would.
   * `anomalyQueries`: the same items in the anomaly references' space (default: `queries`).
   */
  async score(
    queries: Float32Array,
    k = this.k,
    anomalyQueries: Float32Array = queries,
  ): Promise<Score[]> {
    this.checkK(k);
    const n = queries.length / this.references.dims;
    if (anomalyQueries.length !== n * this.anomaly.dims) {
      throw new RangeError(`anomaly queries must be ${n} rows of ${this.anomaly.dims}`);
    }
    const search = await this.searchFor(k);
    const [found, nearest] = await Promise.all([
      search.search(queries),
      this.anomalySearch.search(anomalyQueries),
    ]);
    return this.scoresOf(n, k, search, found, nearest);
  }

  /**
   * `score` of `n` query rows that a chain computes (runSteps; the queries and the anomaly
   * queries are earlier steps' outputs, normalised): the search steps to append to the chain,
   * and how to read the scores from their outputs, given in the same order.
   */
  async scoreSteps(
    n: number,
    queries: StepOutput,
    anomalyQueries: StepOutput,
    k = this.k,
  ): Promise<{ steps: Step[]; scores: (outputs: Record<string, ort.Tensor>[]) => Score[] }> {
    this.checkK(k);
    const search = await this.searchFor(k);
    const searchStep = search.searchStep(queries);
    const anomalyStep = this.anomalySearch.searchStep(anomalyQueries);
    return {
      steps: [searchStep, anomalyStep].filter((s) => s !== null),
      scores: (outputs) => {
        const rest = [...outputs];
        const found = search.found(searchStep ? rest.shift()! : null);
        const nearest = this.anomalySearch.found(anomalyStep ? rest.shift()! : null);
        return this.scoresOf(n, k, search, found, nearest);
      },
    };
  }

  /** Scores from the two searches' answers for `n` queries. */
  private scoresOf(
    n: number,
    k: number,
    search: ReferenceSearch,
    found: { index: Int32Array; distance: Float32Array },
    nearest: { index: Int32Array; distance: Float32Array },
  ): Score[] {
    return Array.from({ length: n }, (_, q) => {
      const neighbours = neighbourList(found, q, search.neighbours, k);
      const labeled = this.anomaly.labeled;
      // An unlabeled reference at distance 0 is the query itself (a pool item in the sample).
      const anomalyNeighbours = neighbourList(nearest, q, this.anomalySearch.neighbours)
        .filter((x) => x.index < labeled || x.distance >= SELF_DISTANCE)
        .slice(0, ANOMALY_K);
      return {
        vote: this.voteOf(neighbours),
        anomalyScore: this.calibrate(
          anomalyDistance(
            anomalyNeighbours.map((x) => ({ classIndex: 0, distance: x.distance })),
            ANOMALY_K,
          ),
        ),
        neighbours,
      };
    });
  }

  /** Votes only (evaluation, selection): the same vote as `score`. */
  async votes(queries: Float32Array, k = this.k): Promise<Vote[]> {
    this.checkK(k);
    const search = await this.searchFor(k);
    const found = await search.search(queries);
    const n = queries.length / this.references.dims;
    return Array.from({ length: n }, (_, q) =>
      this.voteOf(neighbourList(found, q, search.neighbours, k)),
    );
  }

  private checkK(k: number): void {
    if (!Number.isInteger(k) || k < 1 || k > this.maxK) {
      throw new RangeError(`k must be 1..${this.maxK} for this scorer (got ${k})`);
    }
  }

  private voteOf(neighbours: { index: number; distance: number }[]): Vote {
    return vote(
      neighbours.map((x) => ({
        classIndex: this.references.labels[x.index]!,
        distance: x.distance,
      })),
      this.references.normal.length,
    );
  }

  async release(): Promise<void> {
    const wide = this.wide;
    this.wide = null;
    await Promise.all([
      this.all.release(),
      this.anomalySearch.release(),
      wide?.then((w) => w.release()),
    ]);
  }
}

/** The first `count` (default all `per`) neighbours of a query, nearest first. */
function neighbourList(
  found: { index: Int32Array; distance: Float32Array },
  query: number,
  per: number,
  count = per,
): { index: number; distance: number }[] {
  return Array.from({ length: Math.min(per, count) }, (_, j) => ({
    index: found.index[query * per + j]!,
    distance: found.distance[query * per + j]!,
  }));
}

export interface AutoAcceptPlan {
  /** Accept predictions with confidence >= threshold; null: none this time. */
  threshold: number | null;
  /** Leave-one-out precision of the human labels at the threshold, and its 95% lower bound. */
  precision: number | null;
  lowerBound: number | null;
  reason: string;
}

/**
 * Above which confidence predictions may become auto labels: the lowest threshold at which
 * labeled items the head never trained on (the eval split's labels), voted on by the human
 * references exactly as pool items are, are right often enough that the 95% Clopper–Pearson
 * lower bound of that precision meets the target. Not the human labels themselves, voted on
 * by each other: the head was trained to pull those together, so their votes are right far
 * more often than a new item's (measured: a bound of 0.91 from them, 0.74 true precision in
 * the pool). Every unlabeled prediction above the threshold is accepted: how many follows
 * from the evidence, not from a cap.
 */
export async function planAutoAccept(input: {
  /** A scorer over the human-labeled references (what pool predictions are voted against). */
  human: Scorer;
  /** Held-out labeled items: their vectors under the same head, and their class indices. */
  calibration: { vectors: Float32Array; labels: ArrayLike<number> };
  precisionTarget: number;
}): Promise<AutoAcceptPlan> {
  const { human, calibration, precisionTarget } = input;
  const n = calibration.labels.length;
  if (n === 0) {
    return {
      threshold: null,
      precision: null,
      lowerBound: null,
      reason: 'no labeled eval items to measure auto labels on: label some of the eval split',
    };
  }
  const votes = await human.votes(calibration.vectors);
  const choice = thresholdForPrecision(
    votes.map((v) => v.confidence),
    votes.map((v, i) => v.predicted === calibration.labels[i]),
    precisionTarget,
  );
  if (!Number.isFinite(choice.threshold)) {
    return {
      threshold: null,
      precision: null,
      lowerBound: null,
      reason: `no threshold has a 95% lower bound of precision ${precisionTarget} on ${n} labeled eval items`,
    };
  }
  return {
    threshold: choice.threshold,
    precision: choice.precision,
    lowerBound: choice.lowerBound,
    reason:
      `threshold ${choice.threshold.toFixed(3)}: ${choice.accepted} of ${n} labeled eval items above it, ` +
      `${(choice.precision * 100).toFixed(1)}% right (95% lower bound ` +
      `${(choice.lowerBound! * 100).toFixed(1)}% >= ${(precisionTarget * 100).toFixed(1)}%)`,
  };
}
