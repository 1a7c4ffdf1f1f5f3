import pgvector from 'pgvector';
import pg from 'pg';
import { AppError, isUuid } from '@beanstalk/shared';
import { copyRows, decodeVector, type CopyField } from '../binary.ts';
import { checkout, transaction, type Queryable } from '../queryable.ts';

/** Width of projected vectors; the column is vector(128) and heads must project to it. */
export const VECTOR_DIMS = 128;

// Each set's own index (the parent has none since the search-index migration). ef_construction
// 64 rather than 128: a 1M index builds in about 60% of the time (the background refresh went
// 638 -> 397-502 s) with no measurable recall loss on real embeddings (70k, realistic 1M); on the
// Gaussian worst case at 1M it costs 0.08 recall@10 at ef_search 100 (docs/benchmarks.md,
// "kNN search"), where a caller of KnnRepository can raise efSearch.
const HNSW_OPTIONS = 'WITH (m = 16, ef_construction = 64)';

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

/** One item's vector as read back, with its split and current label as the set holds them. */
export interface LabeledVectorRow {
  itemId: string;
  split: Split;
  vector: Float32Array;
  labelClassId: string | null;
  labelSource: LabelSource | null;
}

interface LabeledVectorSqlRow {
  item_id: string;
  split: Split;
  label_class_id: string | null;
  label_source: LabelSource | null;
  vector: Buffer;
}

export const toLabeledVectorRow = (r: LabeledVectorSqlRow): LabeledVectorRow => ({
  itemId: r.item_id,
  split: r.split,
  labelClassId: r.label_class_id,
  labelSource: r.label_class_id ? r.label_source : null,
  vector: decodeVector(r.vector),
});

export type VectorSetState = 'missing' | 'building' | 'published';
export type SearchIndexState = 'none' | 'building' | 'ready';

export function partitionName(headVersionId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(headVersionId)) {
    throw new AppError('BAD_USER_INPUT', `not a head version id: ${headVersionId}`);
  }
  return `item_vectors_${headVersionId.replaceAll('-', '')}`;
}

export function checkVector(embedding: ArrayLike<number>, what: string): void {
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

export function toVectorLiteral(embedding: ArrayLike<number>, what: string): string {
  checkVector(embedding, what);
  return pgvector.toSql(Array.from(embedding)) as string;
}

/**
 * Vector sets: one per head version, a list partition of item_vectors. A set is built
 * off-line (create → append/upsert → publish), then activated atomically, so scoring sees the
 * old set or the new one, never a mix. Its HNSW index is built after that
 * (buildSearchIndex), and neighbour searches move to it only then (useForSearch).
 */
export class VectorSetRepository {
  constructor(private readonly db: Queryable) {}

  private async headProject(headVersionId: string): Promise<string> {
    const { rows } = await this.db.query<{ project_id: string }>(
      'SELECT project_id FROM head_versions WHERE id = $1',
      [headVersionId],
    );
    const row = rows[0];
    if (!row) throw new AppError('NOT_FOUND', `head version ${headVersionId} does not exist`);
    return row.project_id;
  }

  private async isAttached(headVersionId: string): Promise<boolean> {
    const { rows } = await this.db.query(
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
  async upsert(headVersionId: string, rows: VectorRow[], batchSize = 2000): Promise<number> {
    const table = partitionName(headVersionId);
    const projectId = await this.headProject(headVersionId);
    let written = 0;
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const ids = batch.map((r) => r.itemId);
      const vectors = batch.map((r, i) => toVectorLiteral(r.embedding, `vector ${start + i}`));
      const result = await this.db.query(
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
   * like one partition of item_vectors. Fill it with append (or upsert), then publish.
   */
  async create(headVersionId: string): Promise<void> {
    const table = partitionName(headVersionId);
    await this.headProject(headVersionId);
    if (await this.isAttached(headVersionId)) {
      throw new AppError('CONFLICT', `vector set of head ${headVersionId} is already published`);
    }
    await transaction(this.db, async (c) => {
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
   * Appends rows to a set being built by binary COPY, several times faster than upsert at
   * reindex sizes. Rows carry split and current label as read with their features (publish
   * brings labels changed since up to date) and must be items of the head's project; an item
   * already in the set is refused by the key.
   */
  async append(headVersionId: string, rows: VectorSetRow[]): Promise<number> {
    const table = partitionName(headVersionId);
    const projectId = await this.headProject(headVersionId);
    if (await this.isAttached(headVersionId)) {
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
      this.db,
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
  async truncateAfter(headVersionId: string, itemId: string | null): Promise<void> {
    await this.db.query(
      `DELETE FROM "${partitionName(headVersionId)}"
        WHERE head_version_id = $1 AND ($2::uuid IS NULL OR item_id > $2)`,
      [headVersionId, itemId],
    );
  }

  /** The parent's foreign keys on a filled set; items deleted meanwhile lose their rows. */
  private static async addForeignKeys(client: pg.PoolClient, table: string): Promise<void> {
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
   * Adds the parent's foreign keys and an item index, then attaches the set as a partition in
   * one transaction that also brings its label copy up to date. Labels are locked against
   * inserts only for that short transaction, so none can land between the copy and the attach
   * and be missed. No HNSW index yet: scoring, classify and evaluation search the labeled
   * references exactly, so the round goes on while buildSearchIndex runs after promotion.
   */
  async publish(headVersionId: string): Promise<void> {
    const table = partitionName(headVersionId);
    await this.withSession(async (client) => {
      await VectorSetRepository.addForeignKeys(client, table);
      await client.query(`CREATE INDEX IF NOT EXISTS "${table}_item_idx" ON "${table}" (item_id)`);
      await client.query(`ANALYZE "${table}"`);
    });
    await transaction(this.db, async (c) => {
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
   * Builds the HNSW index of a published set without blocking its reads or writes (CREATE
   * INDEX CONCURRENTLY: ingest and labels keep landing in it). Minutes at a million rows; an
   * index left invalid by an interrupted build is dropped and built again.
   */
  async buildSearchIndex(headVersionId: string): Promise<void> {
    const table = partitionName(headVersionId);
    const index = `${table}_embedding_idx`;
    await this.withSession(async (client) => {
      const [state] = await VectorSetRepository.indexStates(client, [headVersionId]);
      if (state === 'building') {
        await client.query(`DROP INDEX CONCURRENTLY IF EXISTS "${index}"`);
      }
      // pgvector builds HNSW fast only while the graph fits in maintenance_work_mem (then it
      // goes on disk, several times slower): ~1.2 kB per 128-d vector at m = 16, so allow 2 kB,
      // no less than the server's 512 MB and no more than 4 GB.
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table}"`,
      );
      const memoryMb = Math.min(4096, Math.max(512, Math.ceil((rows[0]!.n * 2) / 1024)));
      await client.query(`SET maintenance_work_mem = '${memoryMb}MB'`);
      await client.query(
        `CREATE INDEX CONCURRENTLY IF NOT EXISTS "${index}" ON "${table}"
           USING hnsw (embedding vector_cosine_ops) ${HNSW_OPTIONS}`,
      );
      // Fresh statistics, so the planner picks the HNSW index from the first query on.
      await client.query(`ANALYZE "${table}"`);
    });
  }

  /** Whether a set's HNSW index is built ('ready'), under way or left invalid, or absent. */
  async searchIndexState(headVersionId: string): Promise<SearchIndexState> {
    return (await VectorSetRepository.indexStates(this.db, [headVersionId]))[0]!;
  }

  /** searchIndexState of several sets in one query, in the order given. */
  searchIndexStates(headVersionIds: readonly string[]): Promise<SearchIndexState[]> {
    return VectorSetRepository.indexStates(this.db, headVersionIds);
  }

  private static async indexStates(
    db: Queryable,
    headVersionIds: readonly string[],
  ): Promise<SearchIndexState[]> {
    const names = headVersionIds.map((id) => `${partitionName(id)}_embedding_idx`);
    const { rows } = await db.query<{ name: string; valid: boolean }>(
      `SELECT c.relname AS name, i.indisvalid AND i.indisready AS valid
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = ANY($1::text[]) AND c.relnamespace = current_schema()::regnamespace`,
      [names],
    );
    const valid = new Map(rows.map((r) => [r.name, r.valid]));
    return names.map((name) => {
      const v = valid.get(name);
      return v === undefined ? 'none' : v ? 'ready' : 'building';
    });
  }

  /**
   * Runs long DDL on one session of the pool with no statement timeout, released without
   * its settings (or discarded after a failure).
   */
  private async withSession(fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    if (!(this.db instanceof pg.Pool)) {
      throw new Error('building a vector set takes its own session: call it on the pool');
    }
    const client = await checkout(this.db);
    try {
      await client.query('SET statement_timeout = 0');
      await fn(client);
      await client.query('RESET statement_timeout; RESET maintenance_work_mem');
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  }

  /**
   * Makes a published set the active one (what scoring, classify and evaluation read),
   * atomically: readers see either the old set or the new one, never a mix. Returns the
   * previously active head, if any.
   */
  activate(projectId: string, headVersionId: string): Promise<string | null> {
    return transaction(this.db, async (c) => {
      const sets = new VectorSetRepository(c);
      if ((await sets.headProject(headVersionId)) !== projectId) {
        throw new AppError('BAD_USER_INPUT', `head ${headVersionId} is not a head of ${projectId}`);
      }
      if (!(await sets.isAttached(headVersionId))) {
        throw new AppError('CONFLICT', `vector set of head ${headVersionId} is not published yet`);
      }
      const { rows } = await c.query<{
        active_head_version_id: string | null;
        search_head_version_id: string | null;
      }>(
        `SELECT active_head_version_id, search_head_version_id FROM projects
          WHERE id = $1 FOR UPDATE`,
        [projectId],
      );
      const searched = rows[0]?.search_head_version_id ?? null;
      // Neighbour searches move to this set now only if its index is built (a rollback) or no
      // other set can answer them; else once buildSearchIndex is done (useForSearch).
      const search =
        (await sets.searchIndexState(headVersionId)) === 'ready' ||
        searched === null ||
        !(await sets.isAttached(searched))
          ? headVersionId
          : searched;
      await c.query(
        `UPDATE projects SET active_head_version_id = $2, search_head_version_id = $3,
                             updated_at = now() WHERE id = $1`,
        [projectId, headVersionId, search],
      );
      return rows[0]?.active_head_version_id ?? null;
    });
  }

  /**
   * Moves a project's neighbour searches to its active set once that set's HNSW index is
   * built, in one statement (a search reads the search head once, so it sees the old set or
   * the new one, never a mix). False when the head is no longer active or its index not ready.
   */
  async useForSearch(headVersionId: string): Promise<boolean> {
    if ((await this.searchIndexState(headVersionId)) !== 'ready') return false;
    const { rowCount } = await this.db.query(
      'UPDATE projects SET search_head_version_id = $1 WHERE active_head_version_id = $1',
      [headVersionId],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Active heads promoted before `promotedBefore` whose sets do not answer their project's
   * searches yet (the index build has not finished, or never started).
   */
  async awaitingSearchIndex(promotedBefore: Date): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT h.id FROM projects p JOIN head_versions h ON h.id = p.active_head_version_id
        WHERE p.search_head_version_id IS DISTINCT FROM p.active_head_version_id
          AND h.promoted_at < $1
        LIMIT 100`,
      [promotedBefore],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Retired heads whose published sets lie beyond the `keep` most recently promoted of their
   * project, neither active nor answering searches: what the maintenance pass drops. (A head a
   * round rejected has its set dropped at once; these were kept for rollback.)
   */
  async retiredBeyond(keep: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM (
         SELECT h.id, row_number() OVER (PARTITION BY h.project_id
                                         ORDER BY h.promoted_at DESC) AS n
           FROM head_versions h JOIN projects p ON p.id = h.project_id
          WHERE h.status = 'RETIRED' AND h.promoted_at IS NOT NULL
            AND h.id IS DISTINCT FROM p.active_head_version_id
            AND h.id IS DISTINCT FROM p.search_head_version_id
            AND EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                         WHERE i.inhparent = 'item_vectors'::regclass
                           AND c.relname = 'item_vectors_' || replace(h.id::text, '-', ''))
       ) ranked
       WHERE n > $1 ORDER BY n LIMIT 100`,
      [keep],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Drops a retired head's set, unless a rollback made it active or searched meanwhile (the
   * project row is locked, as promotion locks it). Dropping a partition locks item_vectors, and
   * every search would queue behind a drop that waits, so it waits at most `lockTimeoutMs` for
   * its locks and otherwise gives up (false) until the next pass.
   */
  async dropRetired(headVersionId: string, lockTimeoutMs = 200): Promise<boolean> {
    const table = partitionName(headVersionId);
    try {
      return await transaction(this.db, async (c) => {
        await c.query(`SET LOCAL lock_timeout = '${Math.round(lockTimeoutMs)}ms'`);
        const { rows } = await c.query<{ serving: boolean }>(
          `SELECT $1 IN (p.active_head_version_id, p.search_head_version_id) IS TRUE AS serving
             FROM head_versions h JOIN projects p ON p.id = h.project_id
            WHERE h.id = $1 FOR UPDATE OF p`,
          [headVersionId],
        );
        if (rows[0]?.serving !== false) return false;
        await c.query(`DROP TABLE IF EXISTS "${table}"`);
        return true;
      });
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return false; // lock_not_available
      throw error;
    }
  }

  /** Where a head's vector set stands: not started, being filled (standalone), or attached. */
  async state(headVersionId: string): Promise<VectorSetState> {
    if (await this.isAttached(headVersionId)) return 'published';
    const { rows } = await this.db.query('SELECT to_regclass($1) AS t', [
      `"${partitionName(headVersionId)}"`,
    ]);
    return rows[0]?.t ? 'building' : 'missing';
  }

  /** Drops a set that is neither active nor searched (after a swap, or an abandoned build). */
  async drop(headVersionId: string): Promise<void> {
    const { rows } = await this.db.query(
      'SELECT 1 FROM projects WHERE $1 IN (active_head_version_id, search_head_version_id)',
      [headVersionId],
    );
    if (rows.length > 0) {
      throw new AppError(
        'CONFLICT',
        `vector set of head ${headVersionId} is active or answers searches; swap first`,
      );
    }
    await this.db.query(`DROP TABLE IF EXISTS "${partitionName(headVersionId)}"`);
  }

  /** Rows in a set (built or published). */
  async count(headVersionId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${partitionName(headVersionId)}"`,
    );
    return rows[0]!.n;
  }

  /**
   * Projected vectors of one set, filtered like kNN filters: the labeled references, the
   * unlabeled pool (a page after `after`), or the eval split.
   */
  async readPage(input: {
    headVersionId: string;
    splits: Split[];
    labeled?: boolean;
    after?: string | null;
    limit?: number;
  }): Promise<LabeledVectorRow[]> {
    const { rows } = await this.db.query<LabeledVectorSqlRow>(
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

  /**
   * Items of the head's project that have backbone features from the head's encoder but no row
   * in its set (embedded while the set was being built or swapped in), with their features,
   * split and current label: what a catch-up adds.
   */
  async missingItems(headVersionId: string, limit: number): Promise<LabeledVectorRow[]> {
    const { rows } = await this.db.query<LabeledVectorSqlRow>(
      `SELECT f.item_id, i.split, cl.label_class_id, cl.source AS label_source,
              vector_send(f.feature) AS vector
         FROM head_versions h
         JOIN item_features f ON f.encoder_version_id = h.encoder_version_id
         JOIN items i ON i.id = f.item_id AND i.project_id = h.project_id
         LEFT JOIN current_labels cl ON cl.item_id = f.item_id
        WHERE h.id = $1
          AND NOT EXISTS (SELECT 1 FROM "${partitionName(headVersionId)}" v
                           WHERE v.item_id = f.item_id)
        ORDER BY f.item_id LIMIT $2`,
      [headVersionId, limit],
    );
    return rows.map(toLabeledVectorRow);
  }

  /** Unlabeled pool rows of a set (what a round scores). */
  async countUnlabeledPool(headVersionId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM item_vectors
        WHERE head_version_id = $1 AND split = 'POOL' AND label_class_id IS NULL`,
      [headVersionId],
    );
    return rows[0]!.n;
  }

  /** Vectors of the given items in a set (missing items are absent). */
  async vectorsOf(headVersionId: string, itemIds: string[]): Promise<Map<string, Float32Array>> {
    const { rows } = await this.db.query<{ item_id: string; embedding: Buffer }>(
      `SELECT item_id, vector_send(embedding) AS embedding FROM item_vectors
        WHERE head_version_id = $1 AND item_id = ANY($2::uuid[])`,
      [headVersionId, itemIds.filter((id) => isUuid(id))],
    );
    return new Map(rows.map((r) => [r.item_id, decodeVector(r.embedding)]));
  }

  /**
   * An even sample by item id of a set (the same from call to call, in item id order: without
   * the ORDER BY a hash join returned the same rows in another order now and then), with each
   * item's predicted class, for a 2-D map.
   */
  async sample(input: { projectId: string; headVersionId: string; limit: number }) {
    const { rows } = await this.db.query<{
      item_id: string;
      split: Split;
      label_class_id: string | null;
      label_source: LabelSource | null;
      embedding: Buffer;
      predicted: string | null;
      total: string;
    }>(
      `WITH numbered AS (
         SELECT v.*, row_number() OVER (ORDER BY v.item_id) AS n, count(*) OVER () AS total
           FROM item_vectors v WHERE v.head_version_id = $1 AND v.project_id = $2)
       SELECT x.item_id, x.split, x.label_class_id, x.label_source,
              vector_send(x.embedding) AS embedding, p.label_class_id AS predicted, x.total
         FROM numbered x
         LEFT JOIN predictions p ON p.head_version_id = $1 AND p.item_id = x.item_id
        WHERE x.n % greatest(1, ceil(x.total::float8 / $3)::int) = 0
        ORDER BY x.n
        LIMIT $3`,
      [input.headVersionId, input.projectId, input.limit],
    );
    return {
      total: Number(rows[0]?.total ?? 0),
      rows: rows.map((r) => ({
        itemId: r.item_id,
        split: r.split,
        labelClassId: r.label_class_id,
        labelSource: r.label_class_id ? r.label_source : null,
        predictedClassId: r.predicted,
        vector: decodeVector(r.embedding),
      })),
    };
  }
}
