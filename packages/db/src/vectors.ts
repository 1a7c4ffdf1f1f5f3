import pgvector from 'pgvector';
import type { Pool, PoolClient } from 'pg';
import { AppError, isUuid } from '@beanstalk/shared';
import { copyRows, decodeVector, type CopyField } from './binary.ts';

/** Width of projected vectors; the column is vector(128) and heads must project to it. */
export const VECTOR_DIMS = 128;

// Must equal the parent index in the init migration, so an attached partition's index is
// adopted instead of rebuilt under lock.
const HNSW_OPTIONS = 'WITH (m = 16, ef_construction = 128)';

export type Split = 'POOL' | 'EVAL' | 'GOLD';
export type LabelSource = 'HUMAN' | 'AUTO' | 'GOLD' | 'IMPORT';

export interface VectorRow {
  itemId: string;
  embedding: ArrayLike<number>;
}

/** A row for a set being built: the item's split and current label travel with it. */
export interface VectorSetRow extends VectorRow {
  split: Split;
  labelClassId: string | null;
  labelSource: LabelSource | null;
}

export interface KnnFilter {
  splits?: Split[];
  /** Only items whose current label has one of these sources (implies labeled). */
  labelSources?: LabelSource[];
  /** true: labeled items only; false: unlabeled only. */
  labeled?: boolean;
  excludeItemIds?: string[];
}

export interface KnnQuery {
  projectId: string;
  embedding: ArrayLike<number>;
  k: number;
  filter?: KnnFilter;
  /** Defaults to the project's active head. */
  headVersionId?: string;
  /**
   * HNSW candidate list size (default 100); higher is slower and closer to exact. Clustered
   * embeddings need little; uniform random 128-d vectors, the worst case, need ~400-500 for
   * recall@10 >= 0.95 with this index (m=16, ef_construction=128).
   */
  efSearch?: number;
}

export interface Neighbor {
  itemId: string;
  /** Cosine distance, 0 (same direction) to 2. */
  distance: number;
  split: Split;
  labelClassId: string | null;
  labelSource: LabelSource | null;
}

function partitionName(headVersionId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(headVersionId)) {
    throw new AppError('BAD_USER_INPUT', `not a head version id: ${headVersionId}`);
  }
  return `item_vectors_${headVersionId.replaceAll('-', '')}`;
}

function checkVector(embedding: ArrayLike<number>, what: string): void {
  if (embedding.length !== VECTOR_DIMS) {
    throw new AppError(
      'BAD_USER_INPUT',
      `${what} has ${embedding.length} dimensions; vectors here have ${VECTOR_DIMS}`,
    );
  }
  for (let i = 0; i < embedding.length; i++) {
    if (!Number.isFinite(embedding[i])) {
      throw new AppError('BAD_USER_INPUT', `${what} contains NaN or infinite values`);
    }
  }
}

function toVectorLiteral(embedding: ArrayLike<number>, what: string): string {
  checkVector(embedding, what);
  return pgvector.toSql(Array.from(embedding)) as string;
}

/** Runs `fn` in a transaction; `begin` may carry SET LOCALs so they cost no extra round trip. */
async function inTransaction<T>(
  pool: Pool,
  fn: (c: PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function headProject(pool: Pool | PoolClient, headVersionId: string): Promise<string> {
  const { rows } = await pool.query<{ project_id: string }>(
    'SELECT project_id FROM head_versions WHERE id = $1',
    [headVersionId],
  );
  const row = rows[0];
  if (!row) throw new AppError('NOT_FOUND', `head version ${headVersionId} does not exist`);
  return row.project_id;
}

async function isAttached(pool: Pool | PoolClient, headVersionId: string): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'item_vectors'::regclass AND c.relname = $1`,
    [partitionName(headVersionId)],
  );
  return rows.length > 0;
}

/**
 * Inserts or replaces vectors of one set, in batches; split and current label are copied
 * from the item. Works on a set being built and on an attached (live) one.
 */
export async function upsertVectors(
  pool: Pool,
  headVersionId: string,
  rows: VectorRow[],
  batchSize = 2000,
): Promise<number> {
  const table = partitionName(headVersionId);
  const projectId = await headProject(pool, headVersionId);
  let written = 0;
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const ids = batch.map((r) => r.itemId);
    const vectors = batch.map((r, i) => toVectorLiteral(r.embedding, `vector ${start + i}`));
    const result = await pool.query(
      `INSERT INTO "${table}" (head_version_id, item_id, project_id, split, label_class_id,
                              label_source, embedding)
       SELECT $1, i.id, i.project_id, i.split, cl.label_class_id,
              CASE WHEN cl.label_class_id IS NULL THEN NULL ELSE cl.source END,
              v.embedding::vector(${VECTOR_DIMS})
         FROM unnest($2::uuid[], $3::text[]) AS v(item_id, embedding)
         JOIN items i ON i.id = v.item_id AND i.project_id = $4
         LEFT JOIN current_labels cl ON cl.item_id = i.id
       ON CONFLICT (head_version_id, item_id) DO UPDATE SET embedding = EXCLUDED.embedding`,
      [headVersionId, ids, vectors, projectId],
    );
    if (result.rowCount !== batch.length) {
      throw new AppError(
        'BAD_USER_INPUT',
        `${batch.length - (result.rowCount ?? 0)} of ${batch.length} items in this batch do not ` +
          `exist in project ${projectId}`,
      );
    }
    written += batch.length;
  }
  return written;
}

/**
 * Starts a new, not yet searchable, vector set for a head version: a standalone table shaped
 * like one partition of item_vectors. Fill it with appendVectors (or upsertVectors), then
 * publishVectorSet.
 */
export async function createVectorSet(pool: Pool, headVersionId: string): Promise<void> {
  const table = partitionName(headVersionId);
  await headProject(pool, headVersionId);
  if (await isAttached(pool, headVersionId)) {
    throw new AppError('CONFLICT', `vector set of head ${headVersionId} is already published`);
  }
  await inTransaction(pool, async (c) => {
    await c.query(`DROP TABLE IF EXISTS "${table}"`);
    await c.query(
      `CREATE TABLE "${table}" (LIKE item_vectors INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
    );
    // The check lets ATTACH skip its validation scan and the key matches the parent's. The
    // parent's foreign keys are added at publish: checked row by row they cost more than
    // the rest of a bulk load.
    await c.query(
      `ALTER TABLE "${table}"
         ADD CONSTRAINT "${table}_head_check" CHECK (head_version_id = '${headVersionId}'),
         ADD PRIMARY KEY (head_version_id, item_id)`,
    );
  });
}

/**
 * Appends rows to a set being built by binary COPY, several times faster than
 * upsertVectors at reindex sizes. Rows carry split and current label as read with their
 * features (publishVectorSet brings labels changed since up to date) and must be items of
 * the head's project; an item already in the set is refused by the key.
 */
export async function appendVectors(
  pool: Pool,
  headVersionId: string,
  rows: VectorSetRow[],
): Promise<number> {
  const table = partitionName(headVersionId);
  const projectId = await headProject(pool, headVersionId);
  if (await isAttached(pool, headVersionId)) {
    throw new AppError('CONFLICT', `vector set of head ${headVersionId} is already published`);
  }
  const fields = rows.map((r, i): CopyField[] => {
    checkVector(r.embedding, `vector ${i}`);
    for (const id of [r.itemId, r.labelClassId]) {
      if (id !== null && !isUuid(id)) throw new AppError('BAD_USER_INPUT', `not an id: ${id}`);
    }
    return [
      { uuid: headVersionId },
      { uuid: r.itemId },
      { uuid: projectId },
      { text: r.split },
      r.labelClassId ? { uuid: r.labelClassId } : null,
      r.labelClassId && r.labelSource ? { text: r.labelSource } : null,
      { vector: r.embedding },
    ];
  });
  await copyRows(
    pool,
    `"${table}" (head_version_id, item_id, project_id, split, label_class_id, label_source,
                 embedding)`,
    fields,
  );
  return rows.length;
}

/**
 * Removes rows after `itemId` (item-id order) from a set being built: what an append
 * interrupted after its last checkpoint may have left, so appending can resume there.
 */
export async function truncateVectorSetAfter(
  pool: Pool,
  headVersionId: string,
  itemId: string | null,
): Promise<void> {
  await pool.query(
    `DELETE FROM "${partitionName(headVersionId)}"
      WHERE head_version_id = $1 AND ($2::uuid IS NULL OR item_id > $2)`,
    [headVersionId, itemId],
  );
}

/** The parent's foreign keys on a filled set; items deleted meanwhile lose their rows. */
async function addForeignKeys(client: PoolClient, table: string): Promise<void> {
  const { rows } = await client.query(
    `SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'`,
    [`"${table}"`],
  );
  // NOT VALID first: from then on deletes cascade, so the orphans removed next are all there
  // will be, and the validating scan does not block inserts into items.
  if (rows.length === 0) {
    await client.query(
      `ALTER TABLE "${table}"
         ADD CONSTRAINT "${table}_head_fkey" FOREIGN KEY (head_version_id)
           REFERENCES head_versions(id) ON DELETE CASCADE ON UPDATE CASCADE NOT VALID,
         ADD CONSTRAINT "${table}_item_fkey" FOREIGN KEY (item_id)
           REFERENCES items(id) ON DELETE CASCADE ON UPDATE CASCADE NOT VALID`,
    );
  }
  await client.query(
    `DELETE FROM "${table}" v WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = v.item_id)`,
  );
  await client.query(`ALTER TABLE "${table}" VALIDATE CONSTRAINT "${table}_head_fkey"`);
  await client.query(`ALTER TABLE "${table}" VALIDATE CONSTRAINT "${table}_item_fkey"`);
}

/**
 * Adds the parent's foreign keys and builds the set's HNSW index, then attaches it as a
 * partition in one transaction that also brings its label copy up to date. Labels are
 * locked against inserts only for that short transaction, so none can land between the copy
 * and the attach and be missed.
 */
export async function publishVectorSet(pool: Pool, headVersionId: string): Promise<void> {
  const table = partitionName(headVersionId);
  const client = await pool.connect();
  try {
    await addForeignKeys(client, table);
    // pgvector builds HNSW fast only while the graph fits in maintenance_work_mem (then it
    // goes on disk, several times slower): ~1.2 kB per 128-d vector at m = 16, so allow 2 kB,
    // no less than the server's 512 MB and no more than 4 GB.
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`);
    const memoryMb = Math.min(4096, Math.max(512, Math.ceil((rows[0]!.n * 2) / 1024)));
    await client.query(`SET maintenance_work_mem = '${memoryMb}MB'`);
    await client.query(
      `CREATE INDEX IF NOT EXISTS "${table}_embedding_idx" ON "${table}"
         USING hnsw (embedding vector_cosine_ops) ${HNSW_OPTIONS}`,
    );
    await client.query(`CREATE INDEX IF NOT EXISTS "${table}_item_idx" ON "${table}" (item_id)`);
    await client.query('RESET maintenance_work_mem');
    // Fresh statistics, so the planner picks the HNSW index from the first query on.
    await client.query(`ANALYZE "${table}"`);
  } finally {
    client.release();
  }
  await inTransaction(pool, async (c) => {
    await c.query('LOCK TABLE labels IN SHARE MODE');
    await c.query(
      `UPDATE "${table}" v
          SET label_class_id = cl.label_class_id,
              label_source = CASE WHEN cl.label_class_id IS NULL THEN NULL ELSE cl.source END
         FROM current_labels cl
        WHERE cl.item_id = v.item_id
          AND (v.label_class_id IS DISTINCT FROM cl.label_class_id
               OR v.label_source IS DISTINCT FROM
                  CASE WHEN cl.label_class_id IS NULL THEN NULL ELSE cl.source END)`,
    );
    await c.query(
      `ALTER TABLE item_vectors ATTACH PARTITION "${table}" FOR VALUES IN ('${headVersionId}')`,
    );
  });
}

/**
 * Makes a published set the one kNN queries use, atomically: queries see either the old
 * set or the new one, never a mix. Returns the previously active head, if any.
 */
export async function activateVectorSet(
  pool: Pool,
  projectId: string,
  headVersionId: string,
): Promise<string | null> {
  return inTransaction(pool, async (c) => {
    if ((await headProject(c, headVersionId)) !== projectId) {
      throw new AppError('BAD_USER_INPUT', `head ${headVersionId} is not a head of ${projectId}`);
    }
    if (!(await isAttached(c, headVersionId))) {
      throw new AppError('CONFLICT', `vector set of head ${headVersionId} is not published yet`);
    }
    const { rows } = await c.query<{ active_head_version_id: string | null }>(
      'SELECT active_head_version_id FROM projects WHERE id = $1 FOR UPDATE',
      [projectId],
    );
    await c.query(
      'UPDATE projects SET active_head_version_id = $2, updated_at = now() WHERE id = $1',
      [projectId, headVersionId],
    );
    return rows[0]?.active_head_version_id ?? null;
  });
}

export type VectorSetState = 'missing' | 'building' | 'published';

/** Where a head's vector set stands: not started, being filled (standalone), or attached. */
export async function vectorSetState(pool: Pool, headVersionId: string): Promise<VectorSetState> {
  if (await isAttached(pool, headVersionId)) return 'published';
  const { rows } = await pool.query('SELECT to_regclass($1) AS t', [
    `"${partitionName(headVersionId)}"`,
  ]);
  return rows[0]?.t ? 'building' : 'missing';
}

/** Drops a set that is not active (after a swap, or an abandoned build). */
export async function dropVectorSet(pool: Pool, headVersionId: string): Promise<void> {
  const { rows } = await pool.query('SELECT 1 FROM projects WHERE active_head_version_id = $1', [
    headVersionId,
  ]);
  if (rows.length > 0) {
    throw new AppError('CONFLICT', `vector set of head ${headVersionId} is active; swap first`);
  }
  await pool.query(`DROP TABLE IF EXISTS "${partitionName(headVersionId)}"`);
}

async function resolveHead(pool: Pool, q: KnnQuery): Promise<string> {
  if (q.headVersionId) return q.headVersionId;
  const { rows } = await pool.query<{ active_head_version_id: string | null }>(
    'SELECT active_head_version_id FROM projects WHERE id = $1',
    [q.projectId],
  );
  const head = rows[0]?.active_head_version_id;
  if (!head) throw new AppError('NOT_FOUND', `project ${q.projectId} has no active vector set`);
  return head;
}

function filterSql(filter: KnnFilter, params: unknown[]): string {
  const clauses: string[] = [];
  if (filter.splits?.length) {
    params.push(filter.splits);
    clauses.push(`split = ANY($${params.length}::"Split"[])`);
  }
  if (filter.labelSources?.length) {
    params.push(filter.labelSources);
    clauses.push(`label_source = ANY($${params.length}::"LabelSource"[])`);
  }
  if (filter.labeled === true) clauses.push('label_class_id IS NOT NULL');
  if (filter.labeled === false) clauses.push('label_class_id IS NULL');
  if (filter.excludeItemIds?.length) {
    params.push(filter.excludeItemIds);
    clauses.push(`item_id <> ALL($${params.length}::uuid[])`);
  }
  return clauses.map((c) => ` AND ${c}`).join('');
}

type NeighborRow = {
  item_id: string;
  distance: number;
  split: Split;
  label_class_id: string | null;
  label_source: LabelSource | null;
};

const toNeighbor = (r: NeighborRow): Neighbor => ({
  itemId: r.item_id,
  distance: Number(r.distance),
  split: r.split,
  labelClassId: r.label_class_id,
  labelSource: r.label_source,
});

async function runKnn(
  pool: Pool,
  q: KnnQuery,
  mode: 'approximate' | 'exact' | 'explain',
): Promise<Neighbor[] | string> {
  if (!Number.isInteger(q.k) || q.k < 1 || q.k > 1000) {
    throw new AppError('BAD_USER_INPUT', `k must be a whole number from 1 to 1000 (got ${q.k})`);
  }
  const head = await resolveHead(pool, q);
  const params: unknown[] = [toVectorLiteral(q.embedding, 'query vector'), head, q.projectId];
  const where = filterSql(q.filter ?? {}, params);
  params.push(q.k);
  // A literal partition key lets the planner prune to the one set; relaxed iterative scans
  // keep going past ef_search until k rows pass the filters, so re-sort at the end.
  const sql = `
    WITH candidates AS MATERIALIZED (
      SELECT item_id, split, label_class_id, label_source, embedding <=> $1::vector AS distance
        FROM item_vectors
       WHERE head_version_id = $2 AND project_id = $3${where}
       ORDER BY embedding <=> $1::vector
       LIMIT $${params.length}
    )
    SELECT * FROM candidates ORDER BY distance, item_id`;
  // Planner settings and BEGIN travel in one round trip: this is the platform's hot path.
  const settings =
    mode === 'exact'
      ? 'SET LOCAL enable_indexscan = off'
      : `SET LOCAL hnsw.iterative_scan = 'relaxed_order'; ` +
        `SET LOCAL hnsw.ef_search = ${Math.max(q.efSearch ?? 100, q.k)}`;
  return inTransaction(
    pool,
    async (c) => {
      if (mode === 'explain') {
        const { rows } = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      }
      return (await c.query<NeighborRow>(sql, params)).rows.map(toNeighbor);
    },
    `BEGIN; ${settings}`,
  );
}

/** k nearest neighbours by cosine distance through the HNSW index, with filters. */
export async function knn(pool: Pool, q: KnnQuery): Promise<Neighbor[]> {
  return (await runKnn(pool, q, 'approximate')) as Neighbor[];
}

/** The same query answered by a full scan: the ground truth for recall checks. */
export async function exactKnn(pool: Pool, q: KnnQuery): Promise<Neighbor[]> {
  return (await runKnn(pool, q, 'exact')) as Neighbor[];
}

/** The plan Postgres picks for knn(q), to check that the HNSW index is in use. */
export async function explainKnn(pool: Pool, q: KnnQuery): Promise<string> {
  return (await runKnn(pool, q, 'explain')) as string;
}

/** Reads vectors back as plain arrays (for retraining, exports and tests). */
export async function readVectors(
  pool: Pool,
  headVersionId: string,
  itemIds: string[],
): Promise<Map<string, number[]>> {
  const { rows } = await pool.query<{ item_id: string; embedding: Buffer }>(
    `SELECT item_id, vector_send(embedding) AS embedding FROM item_vectors
      WHERE head_version_id = $1 AND item_id = ANY($2::uuid[])`,
    [headVersionId, itemIds],
  );
  return new Map(rows.map((r) => [r.item_id, Array.from(decodeVector(r.embedding))]));
}
