import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIdx } from '../src/index.ts';

describe('readIdx', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'idx-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const header = (dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt8(0x08, 2);
    b.writeUInt8(dims.length, 3);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };

  it('reads plain and gzip-compressed arrays', async () => {
    const bytes = Buffer.concat([header([2, 3]), Buffer.from([1, 2, 3, 4, 5, 6])]);
    await writeFile(path.join(dir, 'a'), bytes);
    await writeFile(path.join(dir, 'a.gz'), gzipSync(bytes));
    for (const f of ['a', 'a.gz']) {
      const idx = await readIdx(path.join(dir, f));
      expect(idx.dims).toEqual([2, 3]);
      expect([...idx.data]).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('names the file and the reason for bad input', async () => {
    const cases: [string, Buffer, RegExp][] = [
      [
        'short',
        Buffer.concat([header([2, 3]), Buffer.from([1, 2])]),
        /short: truncated: header promises 6 bytes .* file has 2/,
      ],
      ['magic', Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), /magic: not an IDX file/],
      [
        'type',
        Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]),
        /type: unsupported IDX element type 0xd/,
      ],
      ['gz', gzipSync(Buffer.alloc(100)).subarray(0, 15), /gz: corrupt gzip stream/],
    ];
    for (const [name, bytes, message] of cases) {
      await writeFile(path.join(dir, name), bytes);
      await expect(readIdx(path.join(dir, name))).rejects.toThrow(message);
    }
  });
});
