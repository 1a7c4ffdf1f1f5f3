import { describe, expect, it } from 'vitest';
import {
  deserializeHead,
  initialWeights,
  project,
  seededRandom,
  serializeHead,
  tensorflow,
  trainHead,
  tripletLoss,
} from '../src/index.ts';

async function lossOf(
  embeddings: number[][],
  labels: number[],
  options: Parameters<typeof tripletLoss>[3],
) {
  const tf = await tensorflow();
  const loss = tripletLoss(tf, tf.tensor2d(embeddings), tf.tensor1d(labels, 'int32'), options);
  return loss.dataSync()[0]!;
}

/** Five overlapping Gaussian classes: hard enough that plain batch-hard mining collapses. */
function hardDataset(seed = 1) {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const classes = 5,
    per = 60,
    dims = 32;
  const centers = Array.from({ length: classes }, () => Array.from({ length: dims }, gauss));
  const features = new Float32Array(classes * per * dims);
  const labels = new Int32Array(classes * per);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < per; i++) {
      labels[c * per + i] = c;
      for (let d = 0; d < dims; d++)
        features[(c * per + i) * dims + d] = centers[c]![d]! + gauss() * 4;
    }
  }
  return { features, labels, dims, n: classes * per };
}

function spread(out: Float32Array, dims: number, n = 100): number {
  let sum = 0;
  let count = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      let d = 0;
      for (let k = 0; k < dims; k++) d += (out[a * dims + k]! - out[b * dims + k]!) ** 2;
      sum += Math.sqrt(d);
      count++;
    }
  }
  return sum / count;
}

const tail = (losses: { loss: number }[]) => losses.slice(-50).reduce((s, l) => s + l.loss, 0) / 50;

describe('triplet loss', () => {
  const separated = [
    [1, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 1, 0],
    [0, 0, 1],
    [0, 0, 1],
  ];
  const labels = [0, 0, 1, 1, 2, 2];
  for (const mining of ['batch-hard', 'batch-all'] as const) {
    for (const antiCollapse of [false, true]) {
      it(`${mining}${antiCollapse ? ' with anti-collapse' : ''}: 0 when groups are well separated, the margin when collapsed`, async () => {
        const options = { margin: 0.5, mining, antiCollapse };
        expect(await lossOf(separated, labels, options)).toBeCloseTo(0, 6);
        const collapsed = labels.map(() => [0.6, 0.8, 0]);
        expect(await lossOf(collapsed, labels, options)).toBeCloseTo(0.5, 4);
      });
    }
  }
});

describe('projection head', () => {
  const config = {
    kind: 'mlp' as const,
    outputDims: 16,
    hiddenDims: 32,
    maxSteps: 400,
    validationFraction: 0,
    classesPerBatch: 5,
    samplesPerClass: 8,
    learningRate: 1e-2,
  };

  it('anti-collapse leaves a collapsed start where plain batch-hard stays stuck at the margin', async () => {
    const { features, labels, dims, n } = hardDataset();
    // Collapsed start: the output layer scaled down to 1e-3 around a shared bias, so every
    // item projects to (nearly) the same point.
    const start = initialWeights({ ...config, inputDims: dims, seed: 4 });
    start.values[2] = start.values[2]!.map((v) => v * 1e-3);
    start.values[3] = Float32Array.from({ length: 16 }, (_, i) => (i === 0 ? 1 : 0));
    expect(spread(project(start, features, n), 16)).toBeLessThan(0.05);

    const plain = await trainHead(
      features,
      labels,
      { ...config, inputDims: dims, antiCollapse: false },
      { initial: start },
    );
    expect(spread(project(plain.weights, features, n), 16)).toBeLessThan(0.1);
    expect(tail(plain.report.losses)).toBeCloseTo(0.5, 1); // stuck at the margin

    const scaled = await trainHead(
      features,
      labels,
      { ...config, inputDims: dims, antiCollapse: true },
      { initial: start },
    );
    // Its loss is scale-free (not comparable to the margin); what matters is the space.
    expect(spread(project(scaled.weights, features, n), 16)).toBeGreaterThan(0.5);
  });

  it('is deterministic for a seed and reloads bit-identically', async () => {
    const { features, labels, dims, n } = hardDataset(2);
    const a = await trainHead(features, labels, {
      ...config,
      inputDims: dims,
      maxSteps: 60,
      seed: 9,
    });
    const b = await trainHead(features, labels, {
      ...config,
      inputDims: dims,
      maxSteps: 60,
      seed: 9,
    });
    expect(a.weights.values).toEqual(b.weights.values);
    const saved = serializeHead(a.weights);
    expect(saved.bytes.length).toBe((32 * 32 + 32 + 32 * 16 + 16) * 4);
    const loaded = deserializeHead(saved.bytes, saved.shapes, saved.kind);
    const before = project(a.weights, features, n);
    const after = project(loaded, features, n);
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    expect(() => deserializeHead(saved.bytes.subarray(4), saved.shapes, saved.kind)).toThrow(
      /need/,
    );
  });

  it('trains on extra examples (pseudo-labels) only when given, and checks their width', async () => {
    const { features, labels, dims } = hardDataset(3);
    // People labeled one class; the other four come only as extra examples.
    const given = Array.from(labels.keys()).filter((i) => labels[i] === 0);
    const others = Array.from(labels.keys()).filter((i) => labels[i] !== 0);
    const rows = (ids: number[]) => {
      const out = new Float32Array(ids.length * dims);
      ids.forEach((id, j) => out.set(features.subarray(id * dims, (id + 1) * dims), j * dims));
      return out;
    };
    const options = { ...config, inputDims: dims, maxSteps: 50, seed: 4 };
    const alone = await trainHead(
      rows(given),
      labels.filter((l) => l === 0),
      options,
    );
    const none = await trainHead(
      rows(given),
      labels.filter((l) => l === 0),
      options,
      {
        extra: { features: new Float32Array(0), labels: new Int32Array(0) },
      },
    );
    const extra = { features: rows(others), labels: Int32Array.from(others, (i) => labels[i]!) };
    const withExtra = await trainHead(
      rows(given),
      labels.filter((l) => l === 0),
      options,
      {
        extra,
      },
    );
    // One class cannot make a triplet: the head stays at its start unless the extras train it.
    expect(alone.report.steps).toBe(0);
    expect(none.weights.values).toEqual(alone.weights.values);
    expect(withExtra.report.steps).toBeGreaterThan(0);
    expect(withExtra.weights.values).not.toEqual(alone.weights.values);
    await expect(
      trainHead(
        rows(given),
        labels.filter((l) => l === 0),
        options,
        {
          extra: { features: extra.features.subarray(1), labels: extra.labels },
        },
      ),
    ).rejects.toThrow(/extra labels need/);
  });

  it('outputs unit vectors of the configured width and refuses features of the wrong width', () => {
    const weights = initialWeights({
      kind: 'linear',
      inputDims: 4,
      outputDims: 3,
      hiddenDims: 0,
      seed: 1,
    });
    const out = project(weights, new Float32Array([1, 2, 3, 4, -1, 0, 2, 1]), 2);
    expect(out.length).toBe(6);
    expect(Math.hypot(...out.subarray(0, 3))).toBeCloseTo(1, 6);
    expect(() => project(weights, new Float32Array(6), 2)).toThrow(/the head takes 4/);
  });
});
