import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Database, PoolShapes } from '@beanstalk/db';
import {
  decodePixels,
  Encoder,
  ImageDecodeError,
  npyBytes,
  type EncoderSidecar,
  type PixelShape,
} from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { BlobStore } from '@beanstalk/storage';

/** Fewer pool images than this cannot train a useful encoder (the trainer checks it too). */
export const MIN_TRAINING_IMAGES = 64;
/** Images are stretched to a square this size unless they all share one no larger. */
export const DEFAULT_TRAINING_SIDE = 64;
export const MAX_TRAINING_SIDE = 224;
/**
 * The most images one training run reads, and the most pixel bytes (the worker holds them in
 * memory): item ids are random, so a capped set is a random sample of the pool.
 */
export const MAX_TRAINING_IMAGES = 200_000;
export const MAX_TRAINING_BYTES = 1024 ** 3;
/** ONNX and PyTorch features of the check images may differ by this much (float32 kernels). */
const CHECK_TOLERANCE = 1e-3;

/**
 * The input an encoder for these images takes. Channels: 1 when every image is grayscale,
 * else 3 (RGB; alpha dropped). Size: the images' own when they all share one square size of
 * at most 64 (Fashion-MNIST's 28 x 28 stays so); otherwise a 64 x 64 square, or `side` when
 * given, the image stretched to it as the serving encoder does (`decodePixels`).
 */
export function trainingInput(shapes: PoolShapes, side?: number | null): PixelShape {
  const channels = shapes.maxChannels <= 1 ? 1 : 3;
  if (side != null) {
    if (!Number.isInteger(side) || side < 16 || side > MAX_TRAINING_SIDE) {
      throw new AppError(
        'BAD_USER_INPUT',
        `inputSize must be a whole number from 16 to ${MAX_TRAINING_SIDE} (got ${side})`,
      );
    }
    return { width: side, height: side, channels };
  }
  const common = shapes.commonSize;
  if (common && common.width === common.height && common.width <= DEFAULT_TRAINING_SIDE) {
    return { width: common.width, height: common.height, channels };
  }
  return { width: DEFAULT_TRAINING_SIDE, height: DEFAULT_TRAINING_SIDE, channels };
}

/** Refuses a project with too few readable pool images, naming the minimum. */
export function checkEnoughImages(count: number, slug: string): void {
  if (count < MIN_TRAINING_IMAGES) {
    throw new AppError(
      'BAD_USER_INPUT',
      `project ${slug} has ${count} readable pool images; training an encoder needs at least ${MIN_TRAINING_IMAGES}`,
      { minimum: MIN_TRAINING_IMAGES, images: count },
    );
  }
}

/** Fewer people's pool labels than this cannot fine-tune an encoder. */
export const MIN_FINE_TUNE_LABELS = 20;

/** Refuses to fine-tune on too few labels, or on labels of one class. */
export function checkFineTuneLabels(labels: { labelClassId: string }[], slug: string): void {
  const classes = new Set(labels.map((l) => l.labelClassId)).size;
  if (labels.length < MIN_FINE_TUNE_LABELS || classes < 2) {
    throw new AppError(
      'BAD_USER_INPUT',
      `project ${slug} has ${labels.length} labeled pool images in ${classes} classes; fine-tuning needs at least ${MIN_FINE_TUNE_LABELS} in two classes or more`,
      { minimum: MIN_FINE_TUNE_LABELS, labels: labels.length, classes },
    );
  }
}

export interface PreparedImages {
  /** Blob of a uint8 N x C x H x W .npy file. */
  imagesBlobKey: string;
  count: number;
  /**
   * With `labeled`: blob of an int64 (N,) .npy file, each image's class index (its position in
   * the project's classes) from the label a head trains on (people's, not auto labels), -1 for
   * an unlabeled image; and how many images have one.
   */
  labelsBlobKey?: string;
  labeledCount?: number;
  skippedCount: number;
  /** The first 100 images that could not be decoded, and why. */
  skipped: { itemId: string; reason: string }[];
}

/**
 * Decodes a project's readable pool images at the encoder's input shape with the serving
 * pipeline, into one .npy blob the training worker reads. Images that cannot be decoded are
 * marked unreadable (the embedding would refuse them too), reported and left out. `labeled`
 * adds their labels (see PreparedImages), read before the images: a label given while they
 * are decoded waits for the next training.
 */
export async function prepareTrainingImages(
  deps: { db: Database; blobs: BlobStore },
  input: { projectId: string; shape: PixelShape; maxImages?: number; labeled?: boolean },
  onProgress: (done: number) => void = () => {},
): Promise<PreparedImages> {
  const { width, height, channels } = input.shape;
  const plane = width * height;
  const size = plane * channels;
  const max = Math.min(
    input.maxImages ?? MAX_TRAINING_IMAGES,
    MAX_TRAINING_IMAGES,
    Math.floor(MAX_TRAINING_BYTES / size),
  );
  const chunks: Uint8Array[] = [];
  const labels: number[] = [];
  let labelOf: Map<string, number> | null = null;
  if (input.labeled) {
    const { indexOf } = await deps.db.classes.index(input.projectId);
    const training = await deps.db.labels.forTraining(input.projectId);
    labelOf = new Map(training.map((l) => [l.itemId, indexOf.get(l.labelClassId)!]));
  }
  const skipped: PreparedImages['skipped'] = [];
  let skippedCount = 0;
  let count = 0;
  let after: string | null = null;
  while (count < max) {
    const page = await deps.db.items.poolPage({
      projectId: input.projectId,
      after,
      limit: Math.min(500, max - count),
    });
    if (page.length === 0) break;
    after = page.at(-1)!.id;
    const decoded = await Promise.all(
      page.map(async (item) => {
        try {
          const bytes = await deps.blobs.get(item.blobKey);
          return await decodePixels({ name: `item ${item.id}`, bytes }, input.shape);
        } catch (error) {
          if (!(error instanceof ImageDecodeError)) throw error;
          await deps.db.items.markUnreadable(item.id, error.message);
          skippedCount++;
          if (skipped.length < 100) skipped.push({ itemId: item.id, reason: error.message });
          return null;
        }
      }),
    );
    const kept = decoded.filter((d): d is Uint8Array => d !== null);
    if (labelOf) {
      page.forEach((item, i) => decoded[i] !== null && labels.push(labelOf.get(item.id) ?? -1));
    }
    const chunk = new Uint8Array(kept.length * size);
    // Interleaved H x W x C pixels to the C x H x W planes PyTorch takes.
    kept.forEach((pixels, i) => {
      for (let c = 0; c < channels; c++) {
        for (let p = 0; p < plane; p++) chunk[i * size + c * plane + p] = pixels[p * channels + c]!;
      }
    });
    chunks.push(chunk);
    count += kept.length;
    onProgress(count);
  }
  const { key } = await deps.blobs.put(npyBytes(chunks, [count, channels, height, width]));
  if (!labelOf) return { imagesBlobKey: key, count, skippedCount, skipped };
  const classes = BigInt64Array.from(labels, (l) => BigInt(l));
  const labelsBlob = await deps.blobs.put(npyBytes(new Uint8Array(classes.buffer), [count], '<i8'));
  return {
    imagesBlobKey: key,
    count,
    labelsBlobKey: labelsBlob.key,
    labeledCount: labels.filter((l) => l >= 0).length,
    skippedCount,
    skipped,
  };
}

/** The trainer's sidecar with the features PyTorch computed for the first training images. */
export type TrainedSidecar = EncoderSidecar & {
  objective?: string;
  check: { images: number; features: string };
};

/** The pixels of the first `n` images of a prepared .npy blob. */
function firstImages(npy: Uint8Array, n: number, size: number): Uint8Array {
  const headerLength = new DataView(npy.buffer, npy.byteOffset).getUint16(8, true);
  const start = 10 + headerLength;
  return npy.subarray(start, start + n * size);
}

/**
 * Checks a trained encoder in onnxruntime, the runtime that will serve it, against the
 * features PyTorch gave for the same images, then registers it for the project (once per
 * name: a retried registration returns the same version). Nothing is registered when they
 * disagree.
 */
export async function registerTrainedEncoder(
  deps: { db: Database; blobs: BlobStore },
  input: {
    projectId: string;
    name: string;
    onnxBlobKey: string;
    imagesBlobKey: string;
    sidecar: TrainedSidecar;
  },
): Promise<{ encoderVersionId: string; created: boolean; maxDifference: number }> {
  const { sidecar } = input;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-encoder-check-'));
  let maxDifference = 0;
  try {
    const onnx = path.join(dir, 'encoder.onnx');
    await writeFile(onnx, await deps.blobs.get(input.onnxBlobKey));
    await writeFile(path.join(dir, 'encoder.json'), JSON.stringify(sidecar));
    const encoder = await Encoder.load(onnx, { threads: 1, provider: 'cpu' });
    try {
      const { channels, height, width } = sidecar.input;
      const size = channels * height * width;
      const n = sidecar.check.images;
      const pixels = firstImages(await deps.blobs.get(input.imagesBlobKey), n, size);
      const { scale, mean, std } = sidecar.normalisation;
      const tensor = Float32Array.from(pixels, (v, i) => {
        const c = Math.floor((i % size) / (height * width));
        return (v * scale - mean[c]!) / std[c]!;
      });
      const actual = await encoder.embedTensor(tensor, n);
      const bytes = Buffer.from(sidecar.check.features, 'base64');
      const expected = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      if (expected.length !== actual.length) {
        throw new AppError(
          'BAD_USER_INPUT',
          `trained encoder: ${actual.length} check values from onnxruntime, ${expected.length} from PyTorch`,
        );
      }
      for (let i = 0; i < actual.length; i++) {
        maxDifference = Math.max(maxDifference, Math.abs(actual[i]! - expected[i]!));
      }
    } finally {
      await encoder.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (!(maxDifference <= CHECK_TOLERANCE)) {
    throw new AppError(
      'BAD_USER_INPUT',
      `the exported ONNX encoder differs from PyTorch by ${maxDifference} (more than ${CHECK_TOLERANCE}); not registered`,
    );
  }
  // The check's features have served their purpose; what it found is kept instead.
  const stored: Record<string, unknown> = { ...sidecar };
  delete stored.check;
  const { version, created } = await deps.db.encoders.createOnce({
    name: input.name,
    projectId: input.projectId,
    onnxBlobKey: input.onnxBlobKey,
    sidecar: { ...stored, verification: { maxDifference, images: sidecar.check.images } },
    inputWidth: sidecar.input.width,
    inputHeight: sidecar.input.height,
    channels: sidecar.input.channels,
    dims: sidecar.output.dims,
  });
  return { encoderVersionId: version.id, created, maxDifference };
}
