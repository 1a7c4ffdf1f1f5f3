import { createHash } from 'node:crypto';

export interface PutResult {
  /** sha256 of the bytes, lowercase hex: the blob's key. */
  key: string;
  /** false when identical bytes were already stored. */
  created: boolean;
}

/** Content-addressed storage: a blob's key is the sha256 of its bytes. */
export interface BlobStore {
  put(bytes: Uint8Array): Promise<PutResult>;
  get(key: string): Promise<Buffer>;
  has(key: string): Promise<boolean>;
}

export function blobKeyOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
