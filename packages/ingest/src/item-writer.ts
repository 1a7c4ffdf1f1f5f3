import { appendLabel, currentLabels, type Pool, type PoolClient, type Split } from '@beanstalk/db';
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

export interface ImportIssue {
  file: string;
  reason: string;
}

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
  deps: { pool: Pool; blobs: BlobStore },
  projectId: string,
  batch: ImageCandidate[],
): Promise<WriteResult> {
  const keys = await Promise.all(batch.map(async (c) => (await deps.blobs.put(c.bytes)).key));
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string; content_hash: string }>(
      `INSERT INTO items (project_id, content_hash, blob_key, mime_type, width, height, channels,
                          split, source_ref)
       SELECT $1, h, h, m, w, ht, ch, s::"Split", r
         FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[], $8::text[])
           AS t(h, m, w, ht, ch, s, r)
       ON CONFLICT (project_id, content_hash) DO NOTHING
       RETURNING id, content_hash`,
      [
        projectId,
        keys,
        batch.map((c) => c.info.mimeType),
        batch.map((c) => c.info.width),
        batch.map((c) => c.info.height),
        batch.map((c) => c.info.channels),
        batch.map((c) => c.split),
        batch.map((c) => c.sourceRef),
      ],
    );
    const created = new Map(rows.map((r) => [r.content_hash, r.id]));
    const firstByKey = new Map<string, ImageCandidate>();
    batch.forEach((c, i) => {
      if (!firstByKey.has(keys[i]!)) firstByKey.set(keys[i]!, c);
    });
    const truth = [...created].flatMap(([key, id]) => {
      const classId = firstByKey.get(key)?.hiddenClassId;
      return classId ? [[id, classId] as const] : [];
    });
    if (truth.length > 0) {
      await client.query(
        `INSERT INTO hidden_truth (item_id, label_class_id)
         SELECT * FROM unnest($1::uuid[], $2::uuid[])`,
        [truth.map((t) => t[0]), truth.map((t) => t[1])],
      );
    }
    const issues = await applyImportLabels(client, projectId, batch, keys);
    await client.query('COMMIT');
    return { imported: created.size, duplicates: batch.length - created.size, issues };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function applyImportLabels(
  client: PoolClient,
  projectId: string,
  batch: ImageCandidate[],
  keys: string[],
): Promise<ImportIssue[]> {
  const labeled = batch.flatMap((c, i) => (c.importClassId ? [{ c, key: keys[i]! }] : []));
  if (labeled.length === 0) return [];
  const { rows } = await client.query<{ id: string; content_hash: string }>(
    'SELECT id, content_hash FROM items WHERE project_id = $1 AND content_hash = ANY($2::text[])',
    [projectId, labeled.map((l) => l.key)],
  );
  const idByKey = new Map(rows.map((r) => [r.content_hash, r.id]));
  const current = await currentLabels(client, [...idByKey.values()]);
  const issues: ImportIssue[] = [];
  const done = new Set<string>();
  for (const { c, key } of labeled) {
    const itemId = idByKey.get(key)!;
    const existing = current.get(itemId);
    if (existing?.labelClassId === c.importClassId || done.has(itemId)) continue;
    if (existing?.labelClassId) {
      issues.push({
        file: c.sourceRef,
        reason: 'already labeled with another class; existing label kept (relabel it explicitly)',
      });
      continue;
    }
    await appendLabel(client, {
      projectId,
      itemId,
      labelClassId: c.importClassId!,
      source: 'IMPORT',
      reason: `imported from ${c.sourceRef}`,
      supersedesId: existing?.id ?? null,
    });
    done.add(itemId);
  }
  return issues;
}
