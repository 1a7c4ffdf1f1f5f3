import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '@beanstalk/storage';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';
import { importFolder } from '../src/index.ts';

/** A small real image whose content depends on `seed`. */
function image(seed: number, format: 'png' | 'jpeg' | 'webp', channels: 1 | 3 = 3) {
  const raw = Buffer.alloc(16 * 16 * channels, 0).map((_, i) => (i * 7 + seed * 31) % 256);
  const pipeline = sharp(raw, { raw: { width: 16, height: 16, channels } });
  return (channels === 1 ? pipeline.toColourspace('b-w') : pipeline).toFormat(format).toBuffer();
}

describe('folder importer', () => {
  let db: TestDatabase;
  let root: string;
  let deps: Parameters<typeof importFolder>[0];
  beforeAll(async () => {
    db = await createTestDatabase();
    root = await mkdtemp(path.join(tmpdir(), 'folder-import-'));
    deps = {
      db: db.db,
      blobs: new LocalBlobStore(path.join(root, 'blobs')),
    };
    const images = path.join(root, 'images');
    await mkdir(path.join(images, 'good'), { recursive: true });
    await mkdir(path.join(images, 'cracked'), { recursive: true });
    await writeFile(path.join(images, 'good', 'a.png'), await image(1, 'png'));
    await writeFile(path.join(images, 'good', 'b.jpg'), await image(2, 'jpeg'));
    await writeFile(path.join(images, 'good', 'gray.png'), await image(5, 'png', 1));
    await writeFile(path.join(images, 'cracked', 'c.webp'), await image(3, 'webp'));
    await writeFile(path.join(images, 'cracked', 'same-as-a.png'), await image(1, 'png'));
    const png = await image(4, 'png');
    await writeFile(
      path.join(images, 'cracked', 'bad-header.png'),
      Buffer.concat([Buffer.from('NOTAPNG!'), png.subarray(8)]),
    );
    await writeFile(
      path.join(images, 'cracked', 'truncated.png'),
      png.subarray(0, png.length - 40),
    );
    await writeFile(path.join(images, 'good', 'empty.jpg'), Buffer.alloc(0));
    await writeFile(path.join(images, 'notes.txt'), 'not an image');
  });
  afterAll(async () => {
    await db.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('imports valid images with labels from folder names and reports each bad file', async () => {
    const progress: number[] = [];
    const summary = await importFolder(deps, {
      folder: path.join(root, 'images'),
      slug: 'parts',
      labelsFrom: 'folders',
      batchSize: 3,
      onProgress: (p) => progress.push(p.done),
    });
    expect(summary).toMatchObject({ total: 8, imported: 4, duplicates: 1, failed: 3 });
    expect(progress.at(-1)).toBe(8);
    const byFile = Object.fromEntries(summary.errors.map((e) => [e.file, e.reason]));
    expect(Object.keys(byFile).sort()).toEqual([
      path.join('cracked', 'bad-header.png'),
      path.join('cracked', 'truncated.png'),
      path.join('good', 'empty.jpg'),
    ]);
    expect(byFile[path.join('good', 'empty.jpg')]).toBe('empty file');
    expect(byFile[path.join('cracked', 'bad-header.png')]).toMatch(
      /cannot decode image|unsupported image type/,
    );
    expect(byFile[path.join('cracked', 'truncated.png')]).toMatch(/cannot decode image/);

    const project = await db.prisma.project.findUniqueOrThrow({
      where: { slug: 'parts' },
      include: { labelClasses: true },
    });
    expect(project.labelClasses.map((c) => c.name).sort()).toEqual(['cracked', 'good']);
    const items = await db.prisma.item.findMany({
      where: { projectId: project.id },
      orderBy: { sourceRef: 'asc' },
    });
    expect(items.map((i) => [i.sourceRef, i.mimeType, i.channels])).toEqual([
      [path.join('cracked', 'c.webp'), 'image/webp', 3],
      [path.join('cracked', 'same-as-a.png'), 'image/png', 3],
      [path.join('good', 'b.jpg'), 'image/jpeg', 3],
      [path.join('good', 'gray.png'), 'image/png', 1],
    ]);
    expect(summary.labelConflicts).toEqual([
      {
        file: path.join('good', 'a.png'),
        reason: expect.stringMatching(/already labeled with another class; existing label kept/),
      },
    ]);
    const labels = await db.db.labels.current(items.map((i) => i.id));
    const good = project.labelClasses.find((c) => c.name === 'good')!.id;
    // The same picture sits in cracked/ (read first) and good/: the first label stays.
    const cracked = project.labelClasses.find((c) => c.name === 'cracked')!.id;
    expect(items.map((i) => labels.get(i.id)?.source)).toEqual([
      'IMPORT',
      'IMPORT',
      'IMPORT',
      'IMPORT',
    ]);
    expect(items.map((i) => labels.get(i.id)?.labelClassId)).toEqual([
      cracked,
      cracked,
      good,
      good,
    ]);
  });

  it('adds nothing when the same folder is imported again', async () => {
    const before = await db.prisma.item.count();
    const labelsBefore = await db.prisma.label.count();
    const summary = await importFolder(deps, {
      folder: path.join(root, 'images'),
      slug: 'parts',
      labelsFrom: 'folders',
    });
    expect(summary.imported).toBe(0);
    expect(summary.duplicates).toBe(5);
    expect(await db.prisma.item.count()).toBe(before);
    expect(await db.prisma.label.count()).toBe(labelsBefore);
  });

  it('takes labels from a CSV and never replaces an existing different label', async () => {
    const csv = path.join(root, 'labels.csv');
    await writeFile(
      csv,
      `file,label\n${path.join('good', 'b.jpg')},cracked\n${path.join('cracked', 'c.webp')},cracked\n`,
    );
    const summary = await importFolder(deps, {
      folder: path.join(root, 'images'),
      slug: 'parts',
      labelsFrom: 'csv',
      csvFile: csv,
    });
    expect(summary.labelConflicts.map((e) => e.file)).toEqual([path.join('good', 'b.jpg')]);
    const b = await db.prisma.item.findFirstOrThrow({
      where: { sourceRef: path.join('good', 'b.jpg') },
    });
    const label = (await db.db.labels.current([b.id])).get(b.id)!;
    const cls = await db.prisma.labelClass.findUniqueOrThrow({
      where: { id: label.labelClassId! },
    });
    expect(cls.name).toBe('good');
  });

  it('refuses a missing folder and a CSV without the expected columns', async () => {
    await expect(
      importFolder(deps, { folder: path.join(root, 'nope'), slug: 'x' }),
    ).rejects.toThrow(/is not a folder/);
    const csv = path.join(root, 'wrong.csv');
    await writeFile(csv, 'path,class\na.png,good\n');
    await expect(
      importFolder(deps, {
        folder: path.join(root, 'images'),
        slug: 'x',
        labelsFrom: 'csv',
        csvFile: csv,
      }),
    ).rejects.toThrow(/columns file,label/);
  });
});
