import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classificationReport,
  Encoder,
  initialWeights,
  knnClassify,
  nearestNeighbours,
  project,
  trainHead,
} from '../src/index.ts';

const repo = path.resolve(import.meta.dirname, '../../..');
const DATA = '/usr/share/datasets/fashion-mnist';

async function idx(name: string, offset: number) {
  return gunzipSync(await readFile(path.join(DATA, name))).subarray(offset);
}

describe('projection head on real Fashion-MNIST features', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await Encoder.load(path.join(repo, 'models/fashion-mnist-dae/encoder.onnx'));
  });
  afterAll(() => encoder.close());

  async function features(images: Uint8Array, count: number): Promise<Float32Array> {
    const { mean, std, scale } = encoder.sidecar.normalisation;
    const tensor = Float32Array.from(
      images.subarray(0, count * 784),
      (v) => (v * scale - mean[0]!) / std[0]!,
    );
    return encoder.embedTensor(tensor, count);
  }

  it('training on 200 labeled images raises kNN macro-F1 on 2000 eval images by at least 3 points', async () => {
    const trainLabels = Int32Array.from(
      (await idx('train-labels-idx1-ubyte.gz', 8)).subarray(0, 200),
    );
    const evalLabels = Int32Array.from(
      (await idx('t10k-labels-idx1-ubyte.gz', 8)).subarray(0, 2000),
    );
    const train = await features(await idx('train-images-idx3-ubyte.gz', 16), 200);
    const evaluation = await features(await idx('t10k-images-idx3-ubyte.gz', 16), 2000);
    const macroF1 = (weights: ReturnType<typeof initialWeights>) => {
      const votes = knnClassify(
        project(weights, train, 200),
        trainLabels,
        project(weights, evaluation, 2000),
        128,
        10,
        10,
      );
      return classificationReport(
        evalLabels,
        votes.map((v) => v.predicted),
        10,
      ).macroF1;
    };
    const untrained = macroF1(
      initialWeights({
        kind: 'mlp',
        inputDims: encoder.dims,
        outputDims: 128,
        hiddenDims: 256,
        seed: 0,
      }),
    );
    const { weights, report } = await trainHead(train, trainLabels, {
      inputDims: encoder.dims,
      seed: 0,
    });
    const trained = macroF1(weights);
    console.log(
      `200 labels: kNN macro-F1 untrained head ${untrained.toFixed(3)}, trained ${trained.toFixed(3)} (${report.steps} steps, ${report.seconds.toFixed(1)} s)`,
    );
    expect(trained - untrained).toBeGreaterThanOrEqual(0.03);
  });

  it('finds the exact nearest neighbours in memory', () => {
    const refs = Float32Array.from([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2]);
    const { index, distance } = nearestNeighbours(refs, Float32Array.from([0.8, 0.6]), 2, 2);
    expect(Array.from(index)).toEqual([2, 0]);
    expect(distance[0]).toBeCloseTo(1 - (0.8 + 0.6) * Math.SQRT1_2, 6);
  });
});
