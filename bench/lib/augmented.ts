// The realistic large set: Fashion-MNIST grown to any size with augmented copies of its
// training images, every item embedded by the real encoder, so the vectors cluster the way
// real embeddings do (the synthetic set is the Gaussian worst case). Items carry features,
// not blobs: a round and a kNN search never decode images.
//
// Items, in order: the 10k test images as EVAL (never seen in any form in the pool: they are
// the queries); the 60k training images as POOL; then augmented copies of training image
// (n - 70 000) mod 60 000 as POOL, augmentation drawn from seededRandom(n):
//   1. crop: a square of side 20-28 px at a random position, resized back to 28 px (bilinear);
//   2. horizontal flip with probability 1/2;
//   3. shift by -3..3 px in x and y (zero fill);
//   4. contrast x0.8-1.2 and brightness -20..20 (of 255);
//   5. Gaussian pixel noise, sigma 10 (of 255); clamped to 0-255.
import path from 'node:path';
import type { Database } from '@beanstalk/db';
import { seededRandom } from '@beanstalk/ml';
import { registerEncoder } from '@beanstalk/model-runtime';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  backboneFeatures,
  CLASS_NAMES,
  loadEncoder,
  loadFashionMnist,
  log,
  ROOT,
} from './fashion-mnist.ts';
import { benchBlobDir, ensureTemplate } from './platform.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const ENCODER = 'models/fashion-mnist-dae';
const PAGE = 10_000;
export const AUGMENTED_SLUG = 'fashion-mnist-augmented';

/** One augmented copy of a 28x28 image (the recipe above). */
export function augment(source: Uint8Array, random: () => number): Uint8Array {
  const crop = 20 + random() * 8;
  const ox = random() * (SIDE - crop);
  const oy = random() * (SIDE - crop);
  const flip = random() < 0.5;
  const dx = Math.floor(random() * 7) - 3;
  const dy = Math.floor(random() * 7) - 3;
  const contrast = 0.8 + random() * 0.4;
  const brightness = random() * 40 - 20;
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= SIDE || y >= SIDE ? 0 : source[y * SIDE + x]!;
  const out = new Uint8Array(PIXELS);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      // Backwards from the output pixel: undo the shift, then the flip, then the crop.
      const sx = x - dx;
      const sy = y - dy;
      let value = 0;
      if (sx >= 0 && sy >= 0 && sx < SIDE && sy < SIDE) {
        const fx = ox + ((flip ? SIDE - 1 - sx : sx) * (crop - 1)) / (SIDE - 1);
        const fy = oy + (sy * (crop - 1)) / (SIDE - 1);
        const x0 = Math.floor(fx);
        const y0 = Math.floor(fy);
        const wx = fx - x0;
        const wy = fy - y0;
        value =
          (1 - wy) * ((1 - wx) * at(x0, y0) + wx * at(x0 + 1, y0)) +
          wy * ((1 - wx) * at(x0, y0 + 1) + wx * at(x0 + 1, y0 + 1));
      }
      const v = value * contrast + brightness + 10 * gauss();
      out[y * SIDE + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return out;
}

/**
 * Creates project AUGMENTED_SLUG (a simulation: hidden classes from Fashion-MNIST's labels)
 * with `items` items as described above and their features from the real encoder
 * (models/fashion-mnist-dae, registered as the project's encoder).
 */
export async function seedAugmentedFashionMnist(
  db: Database,
  options: { items: number; budget: number },
): Promise<{ projectId: string }> {
  const data = await loadFashionMnist();
  const project = await db.projects.create({
    slug: AUGMENTED_SLUG,
    name: `Fashion-MNIST augmented to ${options.items} items`,
    simulation: true,
    classes: CLASS_NAMES.map((name) => ({ name })),
  });
  const classes = await db.classes.ofProject(project.id);
  const encoderVersionId = await registerEncoder(
    { db, blobs: new LocalBlobStore(benchBlobDir) },
    { modelDir: path.join(ROOT, ENCODER), name: path.basename(ENCODER), projectId: project.id },
  );
  await db.budget.add({
    projectId: project.id,
    amount: options.budget,
    reason: 'benchmark budget',
  });
  const encoder = await loadEncoder(ENCODER);
  const test = data.testLabels.length;
  const train = data.trainLabels.length;
  const started = Date.now();
  try {
    for (let start = 0; start < options.items; start += PAGE) {
      const count = Math.min(PAGE, options.items - start);
      const pixels = new Uint8Array(count * PIXELS);
      const rows = Array.from({ length: count }, (_, i) => {
        const n = start + i;
        const isTest = n < test;
        const source = isTest ? n : (n - test) % train;
        const images = isTest ? data.testImages : data.trainImages;
        const image = images.subarray(source * PIXELS, (source + 1) * PIXELS);
        const original = n < test + train;
        pixels.set(original ? image : augment(image, seededRandom(n)), i * PIXELS);
        return {
          contentHash: `fm-augmented-${n}`,
          mimeType: 'application/x-augmented',
          width: SIDE,
          height: SIDE,
          channels: 1,
          split: isTest ? ('EVAL' as const) : ('POOL' as const),
          sourceRef: `${isTest ? 'test' : 'train'}:${source}${original ? '' : `:augmented-${n}`}`,
          hiddenClassId: classes[(isTest ? data.testLabels : data.trainLabels)[source]!]!.id,
        };
      });
      const features = await backboneFeatures(encoder, pixels, count);
      await db.items.insertBatch(project.id, rows);
      const ids = await db.items.idsByContentHash(
        project.id,
        rows.map((r) => r.contentHash),
      );
      await db.features.insert(
        encoderVersionId,
        rows.map((r, i) => ({
          itemId: ids.get(r.contentHash)!,
          feature: features.subarray(i * encoder.dims, (i + 1) * encoder.dims),
        })),
      );
      const done = start + count;
      if (done % 100_000 < PAGE) {
        const seconds = (Date.now() - started) / 1000;
        const eta = (seconds / done) * (options.items - done);
        log(`  augmented, embedded, stored: ${done} / ${options.items} (ETA ${eta.toFixed(0)} s)`);
      }
    }
  } finally {
    await encoder.close();
  }
  await db.analyze();
  return { projectId: project.id };
}

/** The template database of the realistic set of `items` items, built on first use. */
export async function augmentedTemplate(items: number): Promise<string> {
  if (!(Number.isInteger(items) && items >= 10_000)) {
    throw new Error(`--items must be a whole number of at least 10000 (got ${items})`);
  }
  const template = `bench_fashion_mnist_augmented_${items}`;
  await ensureTemplate(template, async (db) => {
    log(`first run: Fashion-MNIST augmented to ${items} items, embedded, into ${template}`);
    await seedAugmentedFashionMnist(db, { items, budget: 1_000_000 });
  });
  return template;
}
