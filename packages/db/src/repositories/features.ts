import pgvector from 'pgvector';
import { decodeVector } from '../binary.ts';
import type { Queryable } from '../queryable.ts';
import {
  toLabeledVectorRow,
  type LabeledVectorRow,
  type LabelSource,
  type Split,
} from './vector-sets.ts';

/**
 * Backbone features: what an encoder made of each item, L2-normalised, kept per encoder so a
 * head retrains and reindexes from them without running the encoder again.
 */
export class FeatureRepository {
  constructor(private readonly db: Queryable) {}

  /** Stores features; an item already encoded by this encoder keeps its row. */
  async insert(
    encoderVersionId: string,
    rows: { itemId: string; feature: ArrayLike<number> }[],
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const result = await this.db.query(
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

  /**
   * Items of a project that this encoder has not encoded yet (and that are not marked
   * unreadable), in id order, after `after` (and below `before`, when given). The feature
   * check is a lookup per item (a LATERAL with LIMIT is never turned into a join): while an
   * ingest writes a new encoder's first features, the statistics say it has none, and the
   * anti-join planned from them compared every item with every feature (16 s a page).
   */
  async itemsWithout(input: {
    projectId: string;
    encoderVersionId: string;
    after: string | null;
    before?: string | null;
    limit: number;
  }): Promise<{ id: string; blobKey: string }[]> {
    const { rows } = await this.db.query<{ id: string; blob_key: string }>(
      `SELECT i.id, i.blob_key FROM items i
         LEFT JOIN LATERAL (SELECT 1 AS done FROM item_features f
                             WHERE f.encoder_version_id = $2 AND f.item_id = i.id LIMIT 1) f
                ON true
        WHERE i.project_id = $1 AND ($3::uuid IS NULL OR i.id > $3)
          AND ($5::uuid IS NULL OR i.id < $5)
          AND NOT (i.metadata ? 'unreadable') AND f.done IS NULL
        ORDER BY i.id LIMIT $4`,
      [input.projectId, input.encoderVersionId, input.after, input.limit, input.before ?? null],
    );
    return rows.map((r) => ({ id: r.id, blobKey: r.blob_key }));
  }

  /**
   * A page of a project's backbone features in item-id order (keyset pagination), with each
   * item's current label, as a new vector set needs them. The bound is stated for both tables:
   * the planner does not carry it across the join, and a merge join then scanned items from
   * the start on every page (3 s a page in the middle of 1M items).
   */
  async readPage(input: {
    projectId: string;
    encoderVersionId: string;
    after: string | null;
    limit: number;
  }): Promise<LabeledVectorRow[]> {
    const { rows } = await this.db.query<{
      item_id: string;
      split: Split;
      label_class_id: string | null;
      label_source: LabelSource | null;
      vector: Buffer;
    }>(
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
  async of(encoderVersionId: string, itemIds: string[]): Promise<Map<string, Float32Array>> {
    const { rows } = await this.db.query<{ item_id: string; feature: Buffer }>(
      `SELECT item_id, vector_send(feature) AS feature FROM item_features
        WHERE encoder_version_id = $1 AND item_id = ANY($2::uuid[])`,
      [encoderVersionId, itemIds],
    );
    return new Map(rows.map((r) => [r.item_id, decodeVector(r.feature)]));
  }

  /**
   * Backbone features (from the head's encoder) of up to `limit` unlabeled pool items of a
   * head's vector set: a fixed pseudo-random sample, ordered by a hash of the item id, so every
   * scorer built from the set compares with the same items.
   */
  async unlabeledPoolSample(headVersionId: string, limit: number): Promise<Float32Array[]> {
    const { rows } = await this.db.query<{ feature: Buffer }>(
      `SELECT vector_send(f.feature) AS feature
         FROM head_versions h
         JOIN item_vectors v ON v.head_version_id = h.id
         JOIN item_features f ON f.encoder_version_id = h.encoder_version_id
                             AND f.item_id = v.item_id
        WHERE h.id = $1 AND v.head_version_id = $1
          AND v.split = 'POOL' AND v.label_class_id IS NULL
        ORDER BY md5(v.item_id::text) LIMIT $2`,
      [headVersionId, limit],
    );
    return rows.map((r) => decodeVector(r.feature));
  }

  /** Items of a project this encoder has encoded. */
  async count(encoderVersionId: string, projectId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM item_features f JOIN items i ON i.id = f.item_id
        WHERE f.encoder_version_id = $1 AND i.project_id = $2`,
      [encoderVersionId, projectId],
    );
    return rows[0]!.n;
  }
}
