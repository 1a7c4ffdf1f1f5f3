import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '@beanstalk/shared';
import { blobKeyOf, type BlobStore, type PutResult } from './blob-store.ts';

const KEY = /^[0-9a-f]{64}$/;

/**
 * Blobs on local disk at root/ab/<key> (256 fan-out folders, as git does). Writes go to a temporary file in the same folder
 * and are renamed into place, so a crash never leaves a partial blob under a real key.
 */
export class LocalBlobStore implements BlobStore {
  /** Fan-out folders known to exist, to spare a mkdir per write on bulk imports. */
  private readonly folders = new Set<string>();

  constructor(readonly root: string) {}

  pathOf(key: string): string {
    if (!KEY.test(key)) throw new AppError('BAD_USER_INPUT', `not a blob key: ${key}`);
    return path.join(this.root, key.slice(0, 2), key);
  }

  async put(bytes: Uint8Array): Promise<PutResult> {
    const key = blobKeyOf(bytes);
    const target = this.pathOf(key);
    if (await this.has(key)) return { key, created: false };
    const folder = path.dirname(target);
    if (!this.folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.folders.add(folder);
    }
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, bytes, { flag: 'wx' });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { key, created: true };
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AppError('NOT_FOUND', `blob ${key} is not in the store`);
      }
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      await access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }
}
