// Fashion-MNIST as the benchmarks use it: Debian's dataset-fashion-mnist files (never a
// download), and backbone features from an encoder fed ready tensors.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { FASHION_MNIST_CLASSES } from '@beanstalk/ingest';
import { Encoder, normaliseRows } from '@beanstalk/ml';

export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = '/usr/share/datasets/fashion-mnist';
const PIXELS = 28 * 28;
export const CLASSES = 10;
export const CLASS_NAMES = FASHION_MNIST_CLASSES;

async function idx(name: string, offset: number) {
  return gunzipSync(await readFile(path.join(DATA, name))).subarray(offset);
}

export async function loadFashionMnist() {
  return {
    trainImages: await idx('train-images-idx3-ubyte.gz', 16),
    trainLabels: Int32Array.from(await idx('train-labels-idx1-ubyte.gz', 8)),
    testImages: await idx('t10k-images-idx3-ubyte.gz', 16),
    testLabels: Int32Array.from(await idx('t10k-labels-idx1-ubyte.gz', 8)),
  };
}

/** Loads an encoder by its model folder, relative to the repository root. */
export function loadEncoder(modelDir: string): Promise<Encoder> {
  return Encoder.load(path.join(ROOT, modelDir, 'encoder.onnx'), { threads: 2 });
}

/** L2-normalised backbone features of the first `count` 28x28 images. */
export async function backboneFeatures(
  encoder: Encoder,
  images: Uint8Array,
  count: number,
): Promise<Float32Array> {
  const { mean, std, scale } = encoder.sidecar.normalisation;
  const out = new Float32Array(count * encoder.dims);
  for (let start = 0; start < count; start += 1024) {
    const n = Math.min(1024, count - start);
    const tensor = Float32Array.from(
      images.subarray(start * PIXELS, (start + n) * PIXELS),
      (v) => (v * scale - mean[0]!) / std[0]!,
    );
    out.set(await encoder.embedTensor(tensor, n), start * encoder.dims);
  }
  return normaliseRows(out, encoder.dims);
}

/** Pixels scaled to unit length, for the raw-pixel kNN reference. */
export function pixelRows(images: Uint8Array, count: number): Float32Array {
  return normaliseRows(Float32Array.from(images.subarray(0, count * PIXELS)), PIXELS);
}

export const log = (() => {
  const started = Date.now();
  return (line: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
})();
