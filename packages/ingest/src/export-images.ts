import { rename, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Database, Split } from '@beanstalk/db';
import { decodeSimplePng } from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { BlobStore } from '@beanstalk/storage';
import { MAX_IMAGE_PIXELS } from './images.ts';
import { npzBytes, type NpyArray } from './npz.ts';
import type { ProgressListener } from './progress.ts';

export interface ExportImagesOptions {
  slug: string;
  splits: Split[];
  out: string;
  /** none: images only (pretraining); truth: hidden ground truth (benchmarks); current: labels. */
  labels?: 'none' | 'truth' | 'current';
  channels?: 1 | 3;
  onProgress?: ProgressListener;
}

export interface ExportSummary {
  out: string;
  images: number;
  labeled: number;
  shape: number[];
}

/**
 * Writes a project's images as an .npz file for the trainer: `images` uint8 N x C x H x W in
 * content-hash order (stable across re-imports), `item_ids`, and with labels `labels` (class
 * position, -1 when missing) and `class_names`.
 */
export async function exportImages(
  deps: { db: Database; blobs: BlobStore },
  options: ExportImagesOptions,
): Promise<ExportSummary> {
  const project = await deps.db.projects.bySlug(options.slug);
  if (!project) throw new AppError('NOT_FOUND', `no project with slug ${options.slug}`);
  if (options.labels === 'truth' && !project.simulation) {
    throw new AppError(
      'BAD_USER_INPUT',
      `${options.slug} is not a simulation project: it has no hidden ground truth to export`,
    );
  }
  const classes = await deps.db.classes.ofProject(project.id);
  const items = await deps.db.items.forExport(project.id, options.splits);
  if (items.length === 0)
    throw new AppError('NOT_FOUND', `no ${options.splits.join('/')} items in ${options.slug}`);
  const { width, height } = items[0]!;
  const odd = items.find((i) => i.width !== width || i.height !== height);
  if (odd) {
    throw new AppError(
      'BAD_USER_INPUT',
      `items differ in size (${width}x${height} and ${odd.width}x${odd.height})`,
    );
  }
  const channels = options.channels ?? 1;
  const plane = width * height * channels;
  const images = new Uint8Array(items.length * plane);
  const batch = 500;
  for (let start = 0; start < items.length; start += batch) {
    await Promise.all(
      items.slice(start, start + batch).map(async (item, j) => {
        const bytes = await deps.blobs.get(item.blobKey);
        // Tiny PNGs decode ~20x faster in JS than through a libvips pipeline (bounded: a
        // stored file that inflates past its header is refused, not decoded).
        const png =
          item.channels === channels ? decodeSimplePng(bytes, MAX_IMAGE_PIXELS) : undefined;
        let raw: Uint8Array;
        if (png && png.width === width && png.height === height) {
          raw = png.data;
        } else {
          const image = sharp(bytes);
          raw = await (
            channels === 1 ? image.toColourspace('b-w') : image.removeAlpha().toColourspace('srgb')
          )
            .raw()
            .toBuffer();
        }
        // sharp gives H x W x C; the trainer reads C x H x W.
        const offset = (start + j) * plane;
        for (let c = 0; c < channels; c++) {
          for (let p = 0; p < width * height; p++)
            images[offset + c * width * height + p] = raw[p * channels + c]!;
        }
      }),
    );
    const done = Math.min(items.length, start + batch);
    options.onProgress?.({
      phase: 'export',
      done,
      total: items.length,
      imported: done,
      duplicates: 0,
      failed: 0,
    });
  }
  const arrays: Record<string, NpyArray> = {
    images: { dtype: 'u1', data: images, shape: [items.length, channels, height, width] },
    item_ids: { dtype: 'U', data: items.map((i) => i.id), shape: [items.length] },
  };
  let labeled = 0;
  const mode = options.labels ?? 'none';
  if (mode !== 'none') {
    const position = new Map(classes.map((c) => [c.id, c.position]));
    let classOf: (item: (typeof items)[number]) => string | undefined;
    if (mode === 'truth') {
      classOf = (item) => item.hiddenClassId ?? undefined;
    } else {
      const current = await deps.db.labels.currentOfProject(project.id);
      classOf = (item) => current.get(item.id);
    }
    const labels = BigInt64Array.from(items, (item) => {
      const c = classOf(item);
      if (c === undefined) return -1n;
      labeled++;
      return BigInt(position.get(c)!);
    });
    arrays.labels = { dtype: 'i8', data: labels, shape: [items.length] };
    arrays.class_names = {
      dtype: 'U',
      data: classes.map((c) => c.name),
      shape: [classes.length],
    };
  }
  const temp = `${options.out}.tmp`;
  await writeFile(temp, npzBytes(arrays));
  await rename(temp, options.out);
  return {
    out: options.out,
    images: items.length,
    labeled,
    shape: [items.length, channels, height, width],
  };
}
