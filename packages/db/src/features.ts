import pgvector from 'pgvector';
import type { Pool } from 'pg';
import { decodeVector } from './binary.ts';
import type { LabelSource, Split } from './vectors.ts';

/** One item's vector as read back: backbone features or a projected embedding. */
export interface ItemVectorRow {
  itemId: string;
  split: Split;
  vector: Float32Array;
}

/** A vector with its item's split and current label, as vector sets hold them. */
export type LabeledVectorRow = ItemVectorRow & {
  labelClassId: string | null;
  labelSource: LabelSource | null;
};

interface LabeledVectorSqlRow {
  item_id: string;
  split: Split;
  label_class_id: string | null;
  label_source: LabelSource | null;
  vector: Buffer;
}

const toLabeledVectorRow = (r: LabeledVectorSqlRow): LabeledVectorRow => ({
  itemId: r.item_id,
  split: r.split,
  labelClassId: r.label_class_id,
  labelSource: r.label_class_id ? r.label_source : null,
  vector: decodeVector(r.vector),
});

/** Stores backbone features; an item already encoded by this encoder keeps its row. */
export async function insertFeatures(
  pool: Pool,
  encoderVersionId: string,
  rows: { itemId: string; feature: ArrayLike<number> }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await pool.query(
    `INSERT INTO item_features (encoder_version_id, item_id, feature)
     SELECT $1, v.item_id, v.feature::vector
       FROM unnest($2::uuid[], $3::text[]) AS v(item_id, feature)
     ON CONFLICT DO NOTHING`,
    [
      encoderVersionId,
      rows.map((r) => r.itemId),
      rows.map((r) => pgvector.toSql(Array.from(r.feature)) as string),
    ],
  );
  return result.rowCount ?? 0;
}

/** Items of a project that this encoder has not encoded yet, in id order, after `after`. */
export async function itemsWithoutFeatures(
  pool: Pool,
  input: { projectId: string; encoderVersionId: string; after: string | null; limit: number },
): Promise<{ id: string; blobKey: string }[]> {
  const { rows } = await pool.query<{ id: string; blob_key: string }>(
    `SELECT i.id, i.blob_key FROM items i
      WHERE i.project_id = $1 AND ($3::uuid IS NULL OR i.id > $3)
        AND NOT EXISTS (SELECT 1 FROM item_features f
                         WHERE f.encoder_version_id = $2 AND f.item_id = i.id)
      ORDER BY i.id LIMIT $4`,
    [input.projectId, input.encoderVersionId, input.after, input.limit],
  );
  return rows.map((r) => ({ id: r.id, blobKey: r.blob_key }));
}

/**
 * A page of a project's backbone features in item-id order (keyset pagination), with each
 * item's current label, as a new vector set needs them. The bound is stated for both tables:
 * the planner does not carry it across the join, and a merge join then scanned items from
 * the start on every page (3 s a page in the middle of 1M items).
 */
export async function readFeaturePage(
  pool: Pool,
  input: { projectId: string; encoderVersionId: string; after: string | null; limit: number },
): Promise<LabeledVectorRow[]> {
  const { rows } = await pool.query<LabeledVectorSqlRow>(
    `SELECT f.item_id, i.split, cl.label_class_id, cl.source AS label_source,
            vector_send(f.feature) AS vector
       FROM item_features f JOIN items i ON i.id = f.item_id
       LEFT JOIN current_labels cl ON cl.item_id = f.item_id
      WHERE f.encoder_version_id = $1 AND i.project_id = $2
        AND ($3::uuid IS NULL OR (f.item_id > $3 AND i.id > $3))
      ORDER BY f.item_id LIMIT $4`,
    [input.encoderVersionId, input.projectId, input.after, input.limit],
  );
  return rows.map(toLabeledVectorRow);
}

/** Backbone features of the given items (missing items are left out). */
export async function readFeaturesOf(
  pool: Pool,
  encoderVersionId: string,
  itemIds: string[],
): Promise<Map<string, Float32Array>> {
  const { rows } = await pool.query<{ item_id: string; feature: Buffer }>(
    `SELECT item_id, vector_send(feature) AS feature FROM item_features
      WHERE encoder_version_id = $1 AND item_id = ANY($2::uuid[])`,
    [encoderVersionId, itemIds],
  );
  return new Map(rows.map((r) => [r.item_id, decodeVector(r.feature)]));
}

/**
 * Projected vectors of one head's set, filtered like kNN filters: the labeled references, the
 * unlabeled pool (a page after `after`), or the eval split.
 */
export async function readVectorPage(
  pool: Pool,
  input: {
    headVersionId: string;
    splits: Split[];
    labeled?: boolean;
    after?: string | null;
    limit?: number;
  },
): Promise<LabeledVectorRow[]> {
  const { rows } = await pool.query<LabeledVectorSqlRow>(
    `SELECT item_id, split, label_class_id, label_source, vector_send(embedding) AS vector
       FROM item_vectors
      WHERE head_version_id = $1 AND split = ANY($2::"Split"[])
        AND ($3::boolean IS NULL OR (label_class_id IS NOT NULL) = $3)
        AND ($4::uuid IS NULL OR item_id > $4)
      ORDER BY item_id LIMIT $5`,
    [
      input.headVersionId,
      input.splits,
      input.labeled ?? null,
      input.after ?? null,
      input.limit ?? 1_000_000_000,
    ],
  );
  return rows.map(toLabeledVectorRow);
}
