export { type BlobStore, type PutResult, blobKeyOf } from './blob-store.ts';
export { LocalBlobStore } from './local-blob-store.ts';
