import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '@beanstalk/storage';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  importFashionMnist,
  readIdx,
} from '../src/index.ts';

describe('Fashion-MNIST importer', () => {
  let db: TestDatabase;
  let blobDir: string;
  let deps: Parameters<typeof importFashionMnist>[0];
  beforeAll(async () => {
    db = await createTestDatabase();
    blobDir = await mkdtemp(path.join(tmpdir(), 'fmnist-blobs-'));
    deps = { db: db.db, blobs: new LocalBlobStore(blobDir) };
  });
  afterAll(async () => {
    await db.drop();
    await rm(blobDir, { recursive: true, force: true });
  });

  it('imports 60000 pool + 10000 eval items with the 10 real class names and hidden truth', async () => {
    const summary = await importFashionMnist(deps);
    expect(summary).toMatchObject({ total: 70_000, imported: 70_000, duplicates: 0, failed: 0 });
    const project = await db.prisma.project.findUniqueOrThrow({ where: { slug: 'fashion-mnist' } });
    const counts = await db.prisma.item.groupBy({
      by: ['split'],
      where: { projectId: project.id },
      _count: true,
    });
    expect(Object.fromEntries(counts.map((c) => [c.split, c._count]))).toEqual({
      POOL: 60_000,
      EVAL: 10_000,
    });
    const classes = await db.prisma.labelClass.findMany({
      where: { projectId: project.id },
      orderBy: { position: 'asc' },
    });
    expect(classes.map((c) => c.name)).toEqual(FASHION_MNIST_CLASSES);
    expect(classes.map((c) => c.hotkey)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    // Truth is hidden, not a platform label.
    expect(await db.prisma.label.count({ where: { projectId: project.id } })).toBe(0);
    expect(await db.prisma.hiddenTruth.count()).toBe(70_000);
    // The first training image is an ankle boot (label 9) in the published dataset; its blob
    // decodes back to the same pixels.
    const labels = gunzipSync(
      await readFile(path.join(FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz')),
    );
    const first = await db.prisma.item.findFirstOrThrow({
      where: { projectId: project.id, sourceRef: 'train-images-idx3-ubyte.gz#0' },
      include: { hiddenTruth: { include: { labelClass: true } } },
    });
    expect(first.hiddenTruth?.labelClass.name).toBe(FASHION_MNIST_CLASSES[labels[8]!]);
    expect(first.hiddenTruth?.labelClass.name).toBe('Ankle boot');
    const sharp = (await import('sharp')).default;
    const png = sharp(await deps.blobs.get(first.blobKey));
    expect((await png.metadata()).channels).toBe(1);
    const pixels = await png.extractChannel(0).raw().toBuffer();
    const images = await readIdx(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
    expect(pixels.equals(Buffer.from(images.data.subarray(0, 784)))).toBe(true);
  });

  it('adds nothing when the same files are imported again', async () => {
    const summary = await importFashionMnist(deps);
    expect(summary).toMatchObject({ total: 70_000, imported: 0, duplicates: 70_000, failed: 0 });
    expect(await db.prisma.item.count()).toBe(70_000);
  });

  it('reports a truncated file by name and reason, skips it and imports the rest', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fmnist-bad-'));
    try {
      for (const f of [
        't10k-images-idx3-ubyte.gz',
        't10k-labels-idx1-ubyte.gz',
        'train-labels-idx1-ubyte.gz',
      ]) {
        await copyFile(path.join(FASHION_MNIST_DIR, f), path.join(dir, f));
      }
      const train = gunzipSync(
        await readFile(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')),
      );
      await writeFile(path.join(dir, 'train-images-idx3-ubyte'), train.subarray(0, 5000));
      const summary = await importFashionMnist(deps, { dir, slug: 'fmnist-broken', limit: 300 });
      expect(summary.errors).toEqual([
        {
          file: path.join(dir, 'train-images-idx3-ubyte'),
          reason: expect.stringMatching(
            /train-images-idx3-ubyte: truncated: header promises 47040000 bytes of data \(60000x28x28\), file has 4984/,
          ),
        },
      ]);
      expect(summary).toMatchObject({ total: 300, imported: 300, duplicates: 0, failed: 1 });
      const broken = await db.prisma.project.findUniqueOrThrow({
        where: { slug: 'fmnist-broken' },
      });
      expect(await db.prisma.item.count({ where: { projectId: broken.id, split: 'EVAL' } })).toBe(
        300,
      );
      expect(await db.prisma.item.count({ where: { projectId: broken.id, split: 'POOL' } })).toBe(
        0,
      );
      const run = await db.prisma.importRun.findUniqueOrThrow({
        where: { id: summary.importRunId },
      });
      expect(run).toMatchObject({ status: 'COMPLETED', failed: 1 });
      expect(JSON.stringify(run.errors)).toContain('truncated');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
