import { describe, expect, it } from 'vitest';
import {
  folderLabels,
  isImagePath,
  isNoise,
  labelsFor,
  parseLabelCsv,
  planBatches,
  rateAndEta,
  sha256Hex,
} from '../src/lib/upload-plan.ts';

describe('what an upload sends', () => {
  it('takes classes from the first folder below the chosen one, or from each dropped folder', () => {
    expect(folderLabels(['line/ok/a.png', 'line/dent/deep/b.png', 'line/c.png'])).toEqual([
      'ok',
      'dent',
      null,
    ]);
    // Two class folders dropped side by side: each is a class.
    expect(folderLabels(['ok/a.png', 'dent/b.png'])).toEqual(['ok', 'dent']);
    // Loose files: none.
    expect(folderLabels(['a.png', 'b.png'])).toEqual([null, null]);
  });

  it('reads file,class CSVs by base name and names bad lines', () => {
    const { labels, problems } = parseLabelCsv(
      'file,class\n"imgs/a.png",ok\nb.png,dent\n\nc.png\nb.png,ok\n',
    );
    expect([...labels]).toEqual([
      ['a.png', 'ok'],
      ['b.png', 'ok'],
    ]);
    expect(problems).toEqual([
      'line 5: expected "file,class"',
      'line 6: b.png is given two classes',
    ]);
    expect(labelsFor(['x/a.png', 'y/z.png'], 'csv', labels)).toEqual(['ok', null]);
    expect(labelsFor(['x/a.png'], 'none', labels)).toEqual([null]);
  });

  it('knows images and folder clutter by name', () => {
    expect(['a.PNG', 'b.jpeg', 'c.jpg'].every(isImagePath)).toBe(true);
    expect(isImagePath('notes.txt')).toBe(false);
    expect(['x/.DS_Store', 'x/Thumbs.db', '.hidden'].every(isNoise)).toBe(true);
    expect(isNoise('x/ok.png')).toBe(false);
  });

  it('cuts batches within the file count and request size, and sets apart files over the limit', () => {
    const limits = { maxFiles: 3, maxFileBytes: 1000, maxRequestBytes: 64 * 1024 + 2500 };
    const files = [100, 200, 1001, 300, 400, 900, 900, 10].map((size, id) => ({ id, size }));
    const { batches, tooLarge } = planBatches(files, limits);
    expect(tooLarge.map((f) => f.id)).toEqual([2]);
    expect(batches.map((b) => b.map((f) => f.id))).toEqual([
      [0, 1, 3],
      [4, 5],
      [6, 7],
    ]);
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(3);
      expect(b.reduce((s, f) => s + f.size + 512, 0)).toBeLessThanOrEqual(2500);
    }
  });

  it('gives rate and time left only once there is something to go on', () => {
    expect(rateAndEta(0, 100, 5)).toBeNull();
    expect(rateAndEta(50, 100, 0.5)).toBeNull();
    expect(rateAndEta(50, 150, 2)).toEqual({ bytesPerSecond: 25, etaSeconds: 4 });
  });

  it('hashes like the API does (lowercase hex SHA-256 of the bytes)', async () => {
    const bytes = new TextEncoder().encode('abc');
    expect(await sha256Hex(bytes.buffer)).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
