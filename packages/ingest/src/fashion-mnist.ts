import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Database, Split } from '@beanstalk/db';
import { isAppError } from '@beanstalk/shared';
import type { BlobStore } from '@beanstalk/storage';
import { readIdx } from './idx.ts';
import { grayToPng } from './images.ts';
import { ImportRunRecorder } from './import-run.ts';
import { writeItems, type ImageCandidate } from './item-writer.ts';
import type { ImportSummary, ProgressListener } from './progress.ts';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Class names in label-index order, as published with the dataset. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const PARTS: { prefix: string; split: Split }[] = [
  { prefix: 'train', split: 'POOL' },
  { prefix: 't10k', split: 'EVAL' },
];

function findFile(dir: string, base: string): string {
  const gz = path.join(dir, `${base}.gz`);
  return existsSync(gz) ? gz : path.join(dir, base);
}

export interface FashionMnistOptions {
  dir?: string;
  slug?: string;
  /** Import only the first N images of each part (quick demos and tests). */
  limit?: number;
  batchSize?: number;
  onProgress?: ProgressListener;
}

/**
 * Imports Fashion-MNIST: train images become the unlabeled pool, test images the eval split.
 * The true classes go to hidden_truth for simulated labelers, never into labels. A corrupt
 * part is reported with its file and reason and skipped; the other part still imports.
 */
export async function importFashionMnist(
  deps: { db: Database; blobs: BlobStore },
  options: FashionMnistOptions = {},
): Promise<ImportSummary> {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const batchSize = options.batchSize ?? 1000;
  const project = await deps.db.projects.ensure(
    options.slug ?? 'fashion-mnist',
    'Fashion-MNIST',
    'Demo: 60k unlabeled pool images (truth hidden for simulation) and 10k eval images.',
    { simulation: true },
  );
  const classIds = await deps.db.classes.ensure(project.id, FASHION_MNIST_CLASSES);
  const classByIndex = FASHION_MNIST_CLASSES.map((name) => classIds.get(name)!);
  const run = await ImportRunRecorder.start(deps.db, project.id, `fashion-mnist:${dir}`);
  return run.track(async () => {
    for (const part of PARTS) {
      const imagesFile = findFile(dir, `${part.prefix}-images-idx3-ubyte`);
      const labelsFile = findFile(dir, `${part.prefix}-labels-idx1-ubyte`);
      let images, labels;
      try {
        [images, labels] = await Promise.all([readIdx(imagesFile), readIdx(labelsFile)]);
        if (
          images.dims.length !== 3 ||
          labels.dims.length !== 1 ||
          images.dims[0] !== labels.dims[0]
        ) {
          throw new Error(
            `${imagesFile}: ${images.dims.join('x')} images do not match ${labels.dims.join('x')} labels`,
          );
        }
      } catch (error) {
        const file = isAppError(error) ? String(error.details.file) : imagesFile;
        run.errors.push({ file, reason: (error as Error).message });
        continue;
      }
      const [count, height, width] = images.dims as [number, number, number];
      const n = Math.min(count, options.limit ?? count);
      run.total += n;
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        const batch: ImageCandidate[] = Array.from({ length: end - start }, (_, j) => {
          const i = start + j;
          const pixels = images.data.subarray(i * width * height, (i + 1) * width * height);
          return {
            bytes: grayToPng(pixels, width, height),
            info: { mimeType: 'image/png', width, height, channels: 1 },
            split: part.split,
            sourceRef: `${path.basename(imagesFile)}#${i}`,
            hiddenClassId: classByIndex[labels.data[i]!],
          };
        });
        run.add(await writeItems(deps, project.id, batch));
        options.onProgress?.(run.progress(part.prefix, run.imported + run.duplicates));
      }
    }
  });
}
