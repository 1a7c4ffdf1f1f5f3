// Near-duplicate detection measured on Fashion-MNIST with copies put in on purpose: per seed,
// `base` random training images and `copies` disturbed copies of random ones among them (moved
// by a pixel or two, grain added, or brightness changed: one of the three per copy). A pair is
// right when both images come from the same original; Fashion-MNIST's own near-identical
// images count as wrong, so precision is a lower bound.
import type { Encoder } from '@beanstalk/ml';
import { grayToPng } from '@beanstalk/ingest';
import {
  signatureOf,
  nearDuplicatePairs,
  SIGNATURE_DIMS,
  NEAR_DUPLICATE_DISTANCE,
  seededRandom,
  shuffledIndices,
} from '@beanstalk/ml';
import { backboneFeatures, log, pixelRows } from './fashion-mnist.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface NearDuplicateRun {
  seed: number;
  space: 'backbone' | 'raw pixels' | 'signature';
  threshold: number;
  pairs: number;
  precision: number;
  recall: number;
  /** Recall of each kind of copy. */
  recallByKind: Record<Disturbance, number>;
  /** Seconds to search all images for pairs, per 10,000 images. */
  secondsPer10k: number;
}

type Disturbance = 'shift' | 'grain' | 'brightness';

function disturb(image: Uint8Array, kind: Disturbance, random: () => number): Uint8Array {
  const out = new Uint8Array(PIXELS);
  if (kind === 'shift') {
    const step = () => (random() < 0.5 ? -1 : 1) * (random() < 0.5 ? 1 : 2);
    const dx = step();
    const dy = step();
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const sx = x - dx;
        const sy = y - dy;
        out[y * SIDE + x] =
          sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE ? image[sy * SIDE + sx]! : 0;
      }
    }
    return out;
  }
  if (kind === 'grain') {
    for (let i = 0; i < PIXELS; i++) {
      // Roughly normal, sd 8 grey levels (sum of uniforms).
      const noise = (random() + random() + random() + random() - 2) * 8 * Math.sqrt(3);
      out[i] = Math.min(255, Math.max(0, Math.round(image[i]! + noise)));
    }
    return out;
  }
  const factor = 0.85 + random() * 0.3;
  for (let i = 0; i < PIXELS; i++) out[i] = Math.min(255, Math.round(image[i]! * factor));
  return out;
}

/** Signatures as the platform makes them: from each image's PNG file. */
async function signatures(rows: Uint8Array, count: number): Promise<Float32Array> {
  const out = new Float32Array(count * SIGNATURE_DIMS);
  for (let r = 0; r < count; r++) {
    const bytes = grayToPng(rows.subarray(r * PIXELS, (r + 1) * PIXELS), SIDE, SIDE);
    out.set(await signatureOf({ name: `row ${r}`, bytes }), r * SIGNATURE_DIMS);
  }
  return out;
}

export async function measureNearDuplicates(input: {
  encoder: Encoder;
  images: Uint8Array;
  count: number;
  seeds: number[];
  base: number;
  copies: number;
  thresholds: number[];
}): Promise<NearDuplicateRun[]> {
  const { encoder, images } = input;
  const runs: NearDuplicateRun[] = [];
  const thresholds = [...new Set([...input.thresholds, NEAR_DUPLICATE_DISTANCE])].sort(
    (a, b) => a - b,
  );
  for (const seed of input.seeds) {
    const random = seededRandom(seed * 104_729 + 3);
    const base = shuffledIndices(input.count, random).slice(0, input.base);
    const originals = shuffledIndices(input.base, random).slice(0, input.copies);
    const kinds: Disturbance[] = ['shift', 'grain', 'brightness'];
    const kindOf: Disturbance[] = [];
    const rows = new Uint8Array((input.base + input.copies) * PIXELS);
    const source = new Int32Array(input.base + input.copies);
    base.forEach((b, r) => {
      rows.set(images.subarray(b * PIXELS, (b + 1) * PIXELS), r * PIXELS);
      source[r] = b;
    });
    originals.forEach((o, n) => {
      const r = input.base + n;
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      kindOf.push(kind);
      rows.set(
        disturb(images.subarray(base[o]! * PIXELS, (base[o]! + 1) * PIXELS), kind, random),
        r * PIXELS,
      );
      source[r] = base[o]!;
    });
    const total = input.base + input.copies;
    for (const [space, vectors, dims] of [
      ['backbone', await backboneFeatures(encoder, rows, total), encoder.dims],
      ['raw pixels', pixelRows(rows, total), PIXELS],
      ['signature', await signatures(rows, total), SIGNATURE_DIMS],
    ] as const) {
      // One search at the loosest threshold; the tighter ones are subsets of its pairs.
      const started = performance.now();
      const all = await nearDuplicatePairs(vectors, dims, thresholds.at(-1)!);
      const seconds = (performance.now() - started) / 1000;
      for (const threshold of thresholds) {
        const pairs = all.filter((p) => p.distance <= threshold);
        const right = pairs.filter((p) => source[p.index] === source[p.of]);
        const found = new Set(right.flatMap((p) => [p.index, p.of]).filter((r) => r >= input.base));
        runs.push({
          seed,
          space,
          threshold,
          pairs: pairs.length,
          precision: pairs.length ? right.length / pairs.length : 0,
          recall: found.size / input.copies,
          recallByKind: Object.fromEntries(
            kinds.map((kind) => {
              const of = kindOf.flatMap((k, n) => (k === kind ? [input.base + n] : []));
              return [kind, of.filter((r) => found.has(r)).length / Math.max(1, of.length)];
            }),
          ) as Record<Disturbance, number>,
          secondsPer10k: (seconds * 10_000) / total,
        });
      }
    }
    log(`near-duplicates, seed ${seed}: done`);
  }
  return runs;
}
