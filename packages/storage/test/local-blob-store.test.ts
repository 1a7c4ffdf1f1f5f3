import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blobKeyOf, LocalBlobStore } from '../src/index.ts';

describe('LocalBlobStore', () => {
  let root: string;
  let store: LocalBlobStore;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'blobs-'));
    store = new LocalBlobStore(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('keys blobs by the sha256 of their bytes and reads them back', async () => {
    const bytes = Buffer.from('abc');
    const { key, created } = await store.put(bytes);
    expect(key).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(blobKeyOf(bytes)).toBe(key);
    expect(store.pathOf(key)).toBe(path.join(root, 'ba', key));
    expect(created).toBe(true);
    expect((await store.get(key)).equals(bytes)).toBe(true);
  });

  it('stores identical bytes once', async () => {
    const bytes = Buffer.from('same');
    const first = await store.put(bytes);
    const second = await store.put(Buffer.from('same'));
    expect(second).toEqual({ key: first.key, created: false });
    const dir = path.dirname(store.pathOf(first.key));
    expect(await readdir(dir)).toEqual([first.key]);
  });

  it('leaves no temporary files behind', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.put(Buffer.from(`blob ${i % 5}`))),
    );
    const all = await readdir(root, { recursive: true });
    expect(all.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('says which blob is missing and refuses malformed keys', async () => {
    await expect(store.get('0'.repeat(64))).rejects.toThrow(/blob 0{64} is not in the store/);
    expect(() => store.pathOf('../etc/passwd')).toThrow(/not a blob key/);
  });
});
