import type { Database, ItemIssue, Split } from '@beanstalk/db';
import type { BlobStore } from '@beanstalk/storage';
import type { ImageInfo } from './images.ts';

export interface ImageCandidate {
  bytes: Uint8Array;
  info: ImageInfo;
  split: Split;
  /** Where it came from, for people reading errors and item details. */
  sourceRef: string;
  /** Ground truth kept hidden from the platform (simulation datasets). */
  hiddenClassId?: string;
  /** A label that comes with the import (folder names, CSV), stored as source IMPORT. */
  importClassId?: string;
}

export type ImportIssue = ItemIssue;

export interface WriteResult {
  imported: number;
  duplicates: number;
  issues: ImportIssue[];
}

/**
 * Stores a batch of images: blobs first (content-addressed, atomic), then the item rows in
 * one transaction, so a failure leaves either the whole batch or none of it in the database.
 * Images already in the project are counted as duplicates; an import label never replaces a
 * different existing label, it is reported instead.
 */
export async function writeItems(
  deps: { db: Database; blobs: BlobStore },
  projectId: string,
  batch: ImageCandidate[],
): Promise<WriteResult> {
  const keys = await Promise.all(batch.map(async (c) => (await deps.blobs.put(c.bytes)).key));
  return deps.db.items.insertBatch(
    projectId,
    batch.map((c, i) => ({
      contentHash: keys[i]!,
      mimeType: c.info.mimeType,
      width: c.info.width,
      height: c.info.height,
      channels: c.info.channels,
      split: c.split,
      sourceRef: c.sourceRef,
      hiddenClassId: c.hiddenClassId,
      importClassId: c.importClassId,
    })),
  );
}
