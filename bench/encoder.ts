// Encoder throughput: the platform's encode path (PNG bytes -> sharp decode -> normalise ->
// onnxruntime) against a bare onnxruntime-node session fed ready tensors, same model, same
// batch size, same thread count, measured in the same run. Median of several runs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { Encoder } from '@beanstalk/ml';
import { median, printTable, writeResults } from './lib/results.ts';

const MODEL = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'models/fashion-mnist-dae/encoder.onnx',
);
const IMAGES = 4096;
const BATCH = 256;
const RUNS = 5;
const THREADS = 2;

const raw = gunzipSync(
  await readFile('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'),
);
const pixels = Array.from({ length: IMAGES }, (_, i) =>
  raw.subarray(16 + i * 784, 16 + (i + 1) * 784),
);
const pngs = await Promise.all(
  pixels.map((p) =>
    sharp(Buffer.from(p), { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer(),
  ),
);

const encoder = await Encoder.load(MODEL, { threads: THREADS, batchSize: BATCH });
const { mean, std, scale } = encoder.sidecar.normalisation;
const tensors: Float32Array[] = [];
for (let start = 0; start < IMAGES; start += BATCH) {
  const n = Math.min(BATCH, IMAGES - start);
  const t = new Float32Array(n * 784);
  for (let i = 0; i < n; i++)
    pixels[start + i]!.forEach((v, j) => (t[i * 784 + j] = (v * scale - mean[0]!) / std[0]!));
  tensors.push(t);
}
const bare = await ort.InferenceSession.create(MODEL, {
  executionProviders: ['cpu'],
  intraOpNumThreads: THREADS,
  graphOptimizationLevel: 'all',
});

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return IMAGES / (Number(process.hrtime.bigint() - started) / 1e9);
}

const platformRates: number[] = [];
const bareRates: number[] = [];
for (let run = 0; run <= RUNS; run++) {
  // Interleaved, so drift on a shared machine hits both alike; run 0 warms up.
  const p = await timeIt(async () => {
    await encoder.embedImages(pngs.map((bytes, i) => ({ name: `${i}.png`, bytes })));
  });
  const b = await timeIt(async () => {
    for (const t of tensors)
      await bare.run({ input: new ort.Tensor('float32', t, [t.length / 784, 1, 28, 28]) });
  });
  if (run > 0) {
    platformRates.push(p);
    bareRates.push(b);
  }
}
const platform = median(platformRates);
const bareRate = median(bareRates);
const ratio = platform / bareRate;
printTable([
  {
    path: 'platform (PNG -> sharp -> normalise -> onnxruntime)',
    'images/s (median)': platform.toFixed(0),
  },
  {
    path: 'bare onnxruntime-node session (ready tensors)',
    'images/s (median)': bareRate.toFixed(0),
  },
  { path: 'ratio platform / bare (target >= 0.8)', 'images/s (median)': ratio.toFixed(3) },
]);
const file = writeResults(
  'encoder',
  { ratio, platformImagesPerSecond: platform, bareImagesPerSecond: bareRate },
  {
    model: path.relative(process.cwd(), MODEL),
    images: IMAGES,
    batchSize: BATCH,
    threads: THREADS,
    runs: RUNS,
    provider: encoder.provider,
    platformRates,
    bareRates,
  },
);
console.log(`wrote ${file}`);
await encoder.close();
await bare.release();
