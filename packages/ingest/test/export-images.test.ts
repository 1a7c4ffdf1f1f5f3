import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '@beanstalk/storage';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';
import { exportImages, FASHION_MNIST_DIR, importFashionMnist } from '../src/index.ts';

const exec = promisify(execFile);

/** What NumPy (the trainer's reader) makes of an .npz file. */
async function numpyView(file: string) {
  const script = `
import json, sys, numpy as np
a = np.load(sys.argv[1])
print(json.dumps({k: {"shape": list(a[k].shape), "dtype": str(a[k].dtype)} for k in a.files} | {
  "labels": a["labels"].tolist() if "labels" in a.files else None,
  "names": a["class_names"].tolist() if "class_names" in a.files else None,
  "rows": [a["images"][i].ravel().tolist() for i in range(len(a["images"]))]}))`;
  const { stdout } = await exec('/usr/bin/python3', ['-c', script, file], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}

describe('image export for the trainer', () => {
  let db: TestDatabase;
  let dir: string;
  let deps: Parameters<typeof importFashionMnist>[0];
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'export-'));
    deps = { db: db.db, blobs: new LocalBlobStore(path.join(dir, 'blobs')) };
    await importFashionMnist(deps, { limit: 40 });
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an .npz that NumPy reads back as the original pixels and hidden labels', async () => {
    const out = path.join(dir, 'pool.npz');
    const summary = await exportImages(deps, {
      slug: 'fashion-mnist',
      splits: ['POOL'],
      out,
      labels: 'truth',
    });
    expect(summary).toEqual({ out, images: 40, labeled: 40, shape: [40, 1, 28, 28] });
    const view = await numpyView(out);
    expect(view.images).toEqual({ shape: [40, 1, 28, 28], dtype: 'uint8' });
    expect(view.item_ids).toEqual({ shape: [40], dtype: '<U36' });
    expect(view.labels).toHaveLength(40);
    expect(view.names[9]).toBe('Ankle boot');
    // Every exported row is one of the first 40 training images, with its true label.
    const raw = gunzipSync(
      await readFile(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')),
    );
    const truth = gunzipSync(
      await readFile(path.join(FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz')),
    );
    const source = new Map<string, number>();
    for (let i = 0; i < 40; i++)
      source.set(raw.subarray(16 + i * 784, 16 + (i + 1) * 784).join(','), truth[8 + i]!);
    view.rows.forEach((row: number[], i: number) => {
      expect(source.get(row.join(','))).toBe(view.labels[i]);
    });
  });

  it('exports images only for pretraining, and names an unknown project', async () => {
    const out = path.join(dir, 'eval.npz');
    await exportImages(deps, { slug: 'fashion-mnist', splits: ['EVAL'], out });
    const view = await numpyView(out);
    expect(view.images.shape).toEqual([40, 1, 28, 28]);
    expect(view.labels).toBeNull();
    await expect(exportImages(deps, { slug: 'nope', splits: ['POOL'], out })).rejects.toThrow(
      /no project with slug nope/,
    );
  });
});
