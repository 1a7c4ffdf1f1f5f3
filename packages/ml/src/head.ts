import type * as tfTypes from '@tensorflow/tfjs';
import { AppError } from '@beanstalk/shared';
import { pickRows } from './exact-knn.ts';
import { knnClassify } from './scoring.ts';
import { seededRandom, shuffledIndices } from './random.ts';
import { tensorflow } from './tf.ts';
import { tripletLoss, type TripletOptions } from './triplet-loss.ts';

export interface HeadConfig extends TripletOptions {
  kind: 'linear' | 'mlp';
  inputDims: number;
  outputDims: number;
  hiddenDims: number;
  /** P x K batches: P classes, K samples of each. */
  classesPerBatch: number;
  samplesPerClass: number;
  learningRate: number;
  maxSteps: number;
  /** Validation every this many steps; stop after `patience` evaluations without improvement. */
  evaluateEvery: number;
  patience: number;
  /** Share of the labels held out per class for early stopping (kNN accuracy on them). */
  validationFraction: number;
  seed: number;
}

export const DEFAULT_HEAD_CONFIG: Omit<HeadConfig, 'inputDims'> = {
  kind: 'mlp',
  outputDims: 128,
  hiddenDims: 256,
  margin: 0.5,
  mining: 'batch-hard',
  antiCollapse: true,
  classesPerBatch: 10,
  samplesPerClass: 8,
  learningRate: 1e-3,
  maxSteps: 600,
  evaluateEvery: 25,
  patience: 6,
  validationFraction: 0.2,
  seed: 0,
};

const MAX_EVAL_REFERENCES = 4000;
const MAX_EVAL_QUERIES = 1000;

/** Weights in order: linear [W, b]; mlp [W1, b1, W2, b2]. W is input x output, row-major. */
export interface HeadWeights {
  kind: 'linear' | 'mlp';
  shapes: number[][];
  values: Float32Array[];
}

export interface TrainingReport {
  steps: number;
  bestStep: number;
  /** Validation kNN accuracy at the best step (NaN without a validation split). */
  validationAccuracy: number;
  losses: { step: number; loss: number }[];
  seconds: number;
}

function shapesFor(
  config: Pick<HeadConfig, 'kind' | 'inputDims' | 'outputDims' | 'hiddenDims'>,
): number[][] {
  return config.kind === 'linear'
    ? [[config.inputDims, config.outputDims], [config.outputDims]]
    : [
        [config.inputDims, config.hiddenDims],
        [config.hiddenDims],
        [config.hiddenDims, config.outputDims],
        [config.outputDims],
      ];
}

/** Glorot-uniform weights and zero biases from a seeded generator. */
export function initialWeights(
  config: Pick<HeadConfig, 'kind' | 'inputDims' | 'outputDims' | 'hiddenDims' | 'seed'>,
): HeadWeights {
  const random = seededRandom(config.seed);
  const shapes = shapesFor(config);
  const values = shapes.map((shape) => {
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 2) {
      const limit = Math.sqrt(6 / (shape[0]! + shape[1]!));
      for (let i = 0; i < out.length; i++) out[i] = (random() * 2 - 1) * limit;
    }
    return out;
  });
  return { kind: config.kind, shapes, values };
}

function forward(
  tf: typeof tfTypes,
  x: tfTypes.Tensor2D,
  vars: tfTypes.Tensor[],
  kind: 'linear' | 'mlp',
) {
  let h = tf.add(tf.matMul(x, vars[0] as tfTypes.Tensor2D), vars[1]!) as tfTypes.Tensor2D;
  if (kind === 'mlp')
    h = tf.add(tf.matMul(tf.relu(h), vars[2] as tfTypes.Tensor2D), vars[3]!) as tfTypes.Tensor2D;
  return tf.div(h, tf.add(tf.norm(h, 'euclidean', 1, true), 1e-12)) as tfTypes.Tensor2D;
}

/**
 * Projects backbone features (n rows of inputDims, flat) through a head: L2-normalised output
 * rows of outputDims. Plain deterministic loops, so a trained and a reloaded head agree bit for bit.
 */
export function project(weights: HeadWeights, features: Float32Array, n: number): Float32Array {
  const [w1, b1, w2, b2] = weights.values;
  const [inDims, firstOut] = weights.shapes[0] as [number, number];
  if (features.length !== n * inDims) {
    throw new AppError(
      'BAD_USER_INPUT',
      `features have ${features.length / Math.max(n, 1)} dimensions per row; the head takes ${inDims}`,
    );
  }
  // Four rows at a time share each weight load, with float64 accumulators: about 2.5x faster
  // than one row at a time in V8 (TF.js WASM matMul was slower still here).
  const layer = (
    input: Float32Array,
    rows: number,
    w: Float32Array,
    b: Float32Array,
    i: number,
    o: number,
    relu: boolean,
  ) => {
    const out = new Float32Array(rows * o);
    const acc = [0, 1, 2, 3].map(() => new Float64Array(o));
    for (let r = 0; r < rows; r += 4) {
      const block = Math.min(4, rows - r);
      for (let q = 0; q < 4; q++) acc[q]!.set(b);
      const [a0, a1, a2, a3] = acc as [Float64Array, Float64Array, Float64Array, Float64Array];
      for (let k = 0; k < i; k++) {
        const v0 = input[r * i + k]!;
        const v1 = block > 1 ? input[(r + 1) * i + k]! : 0;
        const v2 = block > 2 ? input[(r + 2) * i + k]! : 0;
        const v3 = block > 3 ? input[(r + 3) * i + k]! : 0;
        const wk = k * o;
        for (let c = 0; c < o; c++) {
          const weight = w[wk + c]!;
          a0[c]! += v0 * weight;
          a1[c]! += v1 * weight;
          a2[c]! += v2 * weight;
          a3[c]! += v3 * weight;
        }
      }
      for (let q = 0; q < block; q++) {
        const row = acc[q]!;
        if (relu) for (let c = 0; c < o; c++) row[c] = Math.max(0, row[c]!);
        out.set(row, (r + q) * o);
      }
    }
    return out;
  };
  let h = layer(features, n, w1!, b1!, inDims, firstOut, weights.kind === 'mlp');
  let dims = firstOut;
  if (weights.kind === 'mlp') {
    const out = weights.shapes[2]![1]!;
    h = layer(h, n, w2!, b2!, dims, out, false);
    dims = out;
  }
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let c = 0; c < dims; c++) norm += h[r * dims + c]! ** 2;
    norm = Math.sqrt(norm) + 1e-12;
    for (let c = 0; c < dims; c++) h[r * dims + c]! /= norm;
  }
  return h;
}

/** Share of `queries` the platform's kNN vote (k = 5) classifies right against `references`. */
function knnAccuracy(
  refs: Float32Array,
  refLabels: Int32Array,
  queries: Float32Array,
  queryLabels: Int32Array,
  dims: number,
): number {
  const classes = Math.max(0, ...refLabels, ...queryLabels) + 1;
  const votes = knnClassify(refs, refLabels, queries, dims, 5, classes);
  const correct = votes.filter((v, q) => v.predicted === queryLabels[q]).length;
  return correct / Math.max(1, queryLabels.length);
}

/**
 * Trains a projection head on stored backbone features of labeled items with triplet loss
 * (online mining, anti-collapse scaling by default), class-balanced P x K batches and Adam;
 * early-stops on kNN accuracy of a held-out share of the labels. Deterministic for a seed.
 * `extra` examples (e.g. pseudo-labels) join the training batches only: early stopping holds
 * out and compares against the given labels alone.
 */
export async function trainHead(
  givenFeatures: Float32Array,
  givenLabels: Int32Array,
  overrides: Partial<HeadConfig> & { inputDims: number },
  options: {
    initial?: HeadWeights;
    onStep?: (step: number, loss: number) => void;
    extra?: { features: Float32Array; labels: Int32Array };
  } = {},
): Promise<{ weights: HeadWeights; config: HeadConfig; report: TrainingReport }> {
  const config: HeadConfig = { ...DEFAULT_HEAD_CONFIG, ...overrides };
  const dims = config.inputDims;
  const n = givenLabels.length;
  const extra = options.extra ?? { features: new Float32Array(0), labels: new Int32Array(0) };
  for (const [what, values, count] of [
    ['labels', givenFeatures, n],
    ['extra labels', extra.features, extra.labels.length],
  ] as const) {
    if (values.length !== count * dims) {
      throw new AppError(
        'BAD_USER_INPUT',
        `${count} ${what} need ${count * dims} feature values of ${dims} dimensions; got ${values.length}`,
      );
    }
  }
  let features = givenFeatures;
  let labels = givenLabels;
  if (extra.labels.length > 0) {
    features = new Float32Array(givenFeatures.length + extra.features.length);
    features.set(givenFeatures);
    features.set(extra.features, givenFeatures.length);
    labels = new Int32Array(n + extra.labels.length);
    labels.set(givenLabels);
    labels.set(extra.labels, n);
  }
  const started = Date.now();
  const random = seededRandom(config.seed);
  const byClass = new Map<number, number[]>();
  givenLabels.forEach((label, i) => {
    if (!byClass.has(label)) byClass.set(label, []);
    byClass.get(label)!.push(i);
  });
  const train: number[] = [];
  const validation: number[] = [];
  for (const members of byClass.values()) {
    const order = shuffledIndices(members.length, random).map((i) => members[i]!);
    const held = members.length >= 4 ? Math.floor(members.length * config.validationFraction) : 0;
    validation.push(...order.slice(0, held));
    train.push(...order.slice(held));
  }
  const trainByClass = new Map<number, number[]>();
  for (let i = n; i < labels.length; i++) train.push(i);
  for (const i of train) {
    if (!trainByClass.has(labels[i]!)) trainByClass.set(labels[i]!, []);
    trainByClass.get(labels[i]!)!.push(i);
  }
  const usable = [...trainByClass.keys()]
    .filter((c) => trainByClass.get(c)!.length >= 2)
    .sort((a, b) => a - b);
  const start = options.initial ?? initialWeights(config);
  if (usable.length < 2) {
    // Triplets need two classes with two examples each; keep the starting weights.
    return {
      weights: start,
      config,
      report: { steps: 0, bestStep: 0, validationAccuracy: Number.NaN, losses: [], seconds: 0 },
    };
  }
  const tf = await tensorflow();
  const vars = start.values.map((v, i) => tf.variable(tf.tensor(v, start.shapes[i]!)));
  const optimizer = tf.train.adam(config.learningRate);
  const snapshot = (): HeadWeights => ({
    kind: config.kind,
    shapes: start.shapes,
    values: vars.map((v) => v.dataSync().slice() as Float32Array),
  });
  // Early stopping looks at a bounded sample, so its cost does not grow with the label count.
  const given = train.filter((i) => i < n);
  const referenceSample = shuffledIndices(given.length, random)
    .slice(0, MAX_EVAL_REFERENCES)
    .map((i) => given[i]!);
  const querySample = shuffledIndices(validation.length, random)
    .slice(0, MAX_EVAL_QUERIES)
    .map((i) => validation[i]!);
  const trainFeatures = pickRows(features, dims, referenceSample);
  const trainLabels = Int32Array.from(referenceSample, (i) => labels[i]!);
  const validationFeatures = pickRows(features, dims, querySample);
  const validationLabels = Int32Array.from(querySample, (i) => labels[i]!);
  const evaluate = (w: HeadWeights) =>
    validation.length === 0
      ? Number.NaN
      : knnAccuracy(
          project(w, trainFeatures, referenceSample.length),
          trainLabels,
          project(w, validationFeatures, querySample.length),
          validationLabels,
          config.outputDims,
        );
  let best = { weights: snapshot(), accuracy: evaluate(snapshot()), step: 0 };
  let sinceBest = 0;
  const losses: { step: number; loss: number }[] = [];
  let step = 0;
  try {
    for (step = 1; step <= config.maxSteps; step++) {
      const classes = shuffledIndices(usable.length, random)
        .slice(0, config.classesPerBatch)
        .map((i) => usable[i]!);
      const batch: number[] = [];
      for (const c of classes) {
        const members = trainByClass.get(c)!;
        const order = shuffledIndices(members.length, random);
        for (let s = 0; s < config.samplesPerClass; s++)
          batch.push(members[order[s % members.length]!]!);
      }
      const x = tf.tensor2d(pickRows(features, dims, batch), [batch.length, dims]);
      const y = tf.tensor1d(
        Int32Array.from(batch, (i) => labels[i]!),
        'int32',
      );
      const cost = optimizer.minimize(
        () => tripletLoss(tf, forward(tf, x, vars, config.kind), y, config),
        true,
        vars,
      );
      const loss = cost!.dataSync()[0]!;
      tf.dispose([x, y, cost!]);
      losses.push({ step, loss });
      options.onStep?.(step, loss);
      if (validation.length > 0 && step % config.evaluateEvery === 0) {
        const accuracy = evaluate(snapshot());
        if (accuracy > best.accuracy) {
          best = { weights: snapshot(), accuracy, step };
          sinceBest = 0;
        } else if (++sinceBest >= config.patience) {
          break;
        }
      }
    }
  } finally {
    const final = snapshot();
    tf.dispose(vars);
    optimizer.dispose();
    if (validation.length === 0)
      best = { weights: final, accuracy: Number.NaN, step: Math.min(step, config.maxSteps) };
  }
  return {
    weights: best.weights,
    config,
    report: {
      steps: Math.min(step, config.maxSteps),
      bestStep: best.step,
      validationAccuracy: best.accuracy,
      losses,
      seconds: (Date.now() - started) / 1000,
    },
  };
}

/** Weights as little-endian float32 bytes (stored in head_versions.weights) plus shapes. */
export function serializeHead(weights: HeadWeights): {
  bytes: Buffer;
  shapes: number[][];
  kind: 'linear' | 'mlp';
} {
  const total = weights.values.reduce((sum, v) => sum + v.length, 0);
  const bytes = Buffer.alloc(total * 4);
  let offset = 0;
  for (const v of weights.values) {
    for (const x of v) offset = bytes.writeFloatLE(x, offset);
  }
  return { bytes, shapes: weights.shapes, kind: weights.kind };
}

export function deserializeHead(
  bytes: Uint8Array,
  shapes: number[][],
  kind: 'linear' | 'mlp',
): HeadWeights {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const expected = sizes.reduce((a, b) => a + b, 0) * 4;
  if (bytes.length !== expected) {
    throw new AppError(
      'BAD_USER_INPUT',
      `head weights are ${bytes.length} bytes; shapes ${JSON.stringify(shapes)} need ${expected}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const values = sizes.map((size) => {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++, offset += 4) out[i] = view.getFloat32(offset, true);
    return out;
  });
  return { kind, shapes, values };
}
