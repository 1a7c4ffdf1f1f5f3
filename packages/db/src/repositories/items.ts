import pgvector from 'pgvector';
import { AppError, isUuid } from '@beanstalk/shared';
import { decodeVector } from '../binary.ts';
import type { Item, PrismaClient } from '../generated/prisma/client.ts';
import { asModel, transaction, type Queryable } from '../queryable.ts';
import type { LabelSource, Split } from './vector-sets.ts';
import { LabelRepository } from './labels.ts';

/** One image to store; its content hash is also its blob key. */
export interface NewItem {
  contentHash: string;
  mimeType: string;
  width: number;
  height: number;
  channels: number;
  split: Split;
  /** Where it came from, for people reading errors and item details. */
  sourceRef: string;
  /** Ground truth kept hidden from the platform (simulation datasets). */
  hiddenClassId?: string;
  /** A label that comes with the import (folder names, CSV), stored as source IMPORT. */
  importClassId?: string;
}

export interface ItemIssue {
  file: string;
  reason: string;
}

export interface Range {
  min?: number | null;
  max?: number | null;
}

/** What the items list can be narrowed by (the API's ItemFilter has this shape). */
export interface ItemFilter {
  split?: Split | null;
  labeled?: boolean | null;
  labelClassIds?: string[] | null;
  labelSources?: LabelSource[] | null;
  predictedClassIds?: string[] | null;
  confidence?: Range | null;
  margin?: Range | null;
  anomalyScore?: Range | null;
  ids?: string[] | null;
  roundId?: string | null;
  nearDuplicate?: boolean | null;
}

export type ItemSort = 'RECENT' | 'ANOMALY' | 'UNCERTAINTY';

interface Cursor {
  /** The sort key's value (text for timestamps, so microseconds survive). */
  v: string | number;
  id: string;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(cursor: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Cursor;
    if (typeof c.id === 'string' && (typeof c.v === 'string' || typeof c.v === 'number')) return c;
  } catch {
    // fall through to the error below
  }
  throw new AppError('BAD_USER_INPUT', 'after is not a cursor from this API');
}

/**
 * Keyset order per sort: the key expression, its direction, and the comparison that continues
 * after a cursor. Keyset (not offset) pagination keeps pages stable while items are inserted.
 */
const SORTS: Record<ItemSort, { key: string; dir: 'ASC' | 'DESC'; cast: string }> = {
  RECENT: { key: 'i.created_at', dir: 'DESC', cast: 'timestamptz' },
  ANOMALY: { key: 'p.anomaly_score', dir: 'DESC', cast: 'float8' },
  UNCERTAINTY: { key: 'p.margin', dir: 'ASC', cast: 'float8' },
};

/** An item with what an export for the trainer needs. */
export interface ExportItem {
  id: string;
  blobKey: string;
  mimeType: string;
  width: number;
  height: number;
  channels: number;
  hiddenClassId: string | null;
}

/** The sizes of a project's readable pool images (ItemRepository.poolShapes). */
export interface PoolShapes {
  images: number;
  /** Distinct width x height pairs. */
  sizes: number;
  maxSide: number;
  maxChannels: number;
  /** The one size every image has, if they share one. */
  commonSize: { width: number; height: number } | null;
}

/** Images of projects: storing batches, listing with filters and keyset pages. */
export class ItemRepository {
  constructor(
    private readonly db: Queryable,
    private readonly prisma: PrismaClient,
  ) {}

  /**
   * Stores a batch of item rows in one transaction (with hidden truth and import labels), so
   * a failure leaves either the whole batch or none of it. Images already in the project are
   * left alone; an import label never replaces a different existing label: it is reported.
   */
  insertBatch(
    projectId: string,
    batch: NewItem[],
  ): Promise<{ imported: number; duplicates: number; issues: ItemIssue[] }> {
    return transaction(this.db, async (client) => {
      const { rows } = await client.query<{ id: string; content_hash: string }>(
        `INSERT INTO items (project_id, content_hash, blob_key, mime_type, width, height,
                            channels, split, source_ref)
         SELECT $1, h, h, m, w, ht, ch, s::"Split", r
           FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[],
                       $8::text[]) AS t(h, m, w, ht, ch, s, r)
         ON CONFLICT (project_id, content_hash) DO NOTHING
         RETURNING id, content_hash`,
        [
          projectId,
          batch.map((c) => c.contentHash),
          batch.map((c) => c.mimeType),
          batch.map((c) => c.width),
          batch.map((c) => c.height),
          batch.map((c) => c.channels),
          batch.map((c) => c.split),
          batch.map((c) => c.sourceRef),
        ],
      );
      const created = new Map(rows.map((r) => [r.content_hash, r.id]));
      const firstByHash = new Map<string, NewItem>();
      for (const c of batch) if (!firstByHash.has(c.contentHash)) firstByHash.set(c.contentHash, c);
      const truth = [...created].flatMap(([hash, id]) => {
        const classId = firstByHash.get(hash)?.hiddenClassId;
        return classId ? [[id, classId] as const] : [];
      });
      if (truth.length > 0) {
        // Hidden truth only where figures from it are marked as simulated.
        const sim = await client.query('SELECT 1 FROM projects WHERE id = $1 AND simulation', [
          projectId,
        ]);
        if (!sim.rowCount) {
          throw new AppError('BAD_USER_INPUT', 'hidden ground truth needs a simulation project');
        }
        await client.query(
          `INSERT INTO hidden_truth (item_id, label_class_id)
           SELECT * FROM unnest($1::uuid[], $2::uuid[])`,
          [truth.map((t) => t[0]), truth.map((t) => t[1])],
        );
      }
      const issues = await this.applyImportLabels(client, projectId, batch);
      return { imported: created.size, duplicates: batch.length - created.size, issues };
    });
  }

  private async applyImportLabels(
    client: Queryable,
    projectId: string,
    batch: NewItem[],
  ): Promise<ItemIssue[]> {
    const labeled = batch.filter((c) => c.importClassId);
    if (labeled.length === 0) return [];
    const ids = await this.idsByContentHash(
      projectId,
      labeled.map((c) => c.contentHash),
      client,
    );
    const labels = new LabelRepository(client);
    const current = await labels.current([...ids.values()]);
    const issues: ItemIssue[] = [];
    const done = new Set<string>();
    for (const c of labeled) {
      const itemId = ids.get(c.contentHash)!;
      const existing = current.get(itemId);
      if (existing?.labelClassId === c.importClassId || done.has(itemId)) continue;
      if (existing?.labelClassId) {
        issues.push({
          file: c.sourceRef,
          reason: 'already labeled with another class; existing label kept (relabel it explicitly)',
        });
        continue;
      }
      await labels.append({
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

  /** Item ids by content hash within a project (hashes not there are absent). */
  async idsByContentHash(
    projectId: string,
    hashes: string[],
    db: Queryable = this.db,
  ): Promise<Map<string, string>> {
    const { rows } = await db.query<{ id: string; content_hash: string }>(
      'SELECT id, content_hash FROM items WHERE project_id = $1 AND content_hash = ANY($2::text[])',
      [projectId, hashes],
    );
    return new Map(rows.map((r) => [r.content_hash, r.id]));
  }

  /** Later items that nearly duplicate each of these, oldest first (at most `limit` each). */
  async nearDuplicatesOf(itemIds: readonly string[], limit = 50): Promise<Item[]> {
    const valid = itemIds.filter((id) => isUuid(id));
    if (valid.length === 0) return [];
    const { rows } = await this.db.query(
      `SELECT * FROM (
         SELECT i.*, row_number() OVER (PARTITION BY i.near_duplicate_of
                                        ORDER BY i.created_at, i.id) AS n
           FROM items i WHERE i.near_duplicate_of = ANY($1::uuid[])) x
        WHERE x.n <= $2 ORDER BY x.created_at, x.id`,
      [valid, limit],
    );
    return rows.map(({ n: _, ...row }) => asModel<Item>(row)!);
  }

  /**
   * The unlabeled pool items of an item's near-duplicate group (the group's earliest item and
   * every item marked as nearly duplicating it), the item itself left out, oldest first.
   */
  async unlabeledNearDuplicateGroup(itemId: string, limit = 50): Promise<Item[]> {
    if (!isUuid(itemId)) return [];
    const { rows } = await this.db.query(
      `WITH me AS (SELECT id, project_id, coalesce(near_duplicate_of, id) AS root
                     FROM items WHERE id = $1)
       SELECT i.* FROM items i, me
        WHERE i.project_id = me.project_id AND i.id <> me.id AND i.split = 'POOL'
          AND (i.id = me.root OR i.near_duplicate_of = me.root)
          AND NOT EXISTS (SELECT 1 FROM current_labels cl
                           WHERE cl.item_id = i.id AND cl.label_class_id IS NOT NULL)
        ORDER BY i.created_at, i.id LIMIT $2`,
      [itemId, limit],
    );
    return rows.map((r) => asModel<Item>(r)!);
  }

  /** Readable items of a project that have no signature yet, in id order, after `after`. */
  async withoutSignature(input: {
    projectId: string;
    after: string | null;
    limit: number;
  }): Promise<{ id: string; blobKey: string }[]> {
    const { rows } = await this.db.query<{ id: string; blob_key: string }>(
      `SELECT i.id, i.blob_key FROM items i
        WHERE i.project_id = $1 AND NOT (i.metadata ? 'unreadable')
          AND NOT EXISTS (SELECT 1 FROM item_signatures s WHERE s.item_id = i.id)
          AND ($2::uuid IS NULL OR i.id > $2)
        ORDER BY i.id LIMIT $3`,
      [input.projectId, input.after, input.limit],
    );
    return rows.map((r) => ({ id: r.id, blobKey: r.blob_key }));
  }

  async setSignatures(rows: { itemId: string; signature: ArrayLike<number> }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `INSERT INTO item_signatures (item_id, signature)
       SELECT s.item_id, s.signature::vector
         FROM unnest($1::uuid[], $2::text[]) AS s(item_id, signature)
       ON CONFLICT (item_id) DO NOTHING`,
      [
        rows.map((r) => r.itemId),
        rows.map((r) => pgvector.toSql(Array.from(r.signature)) as string),
      ],
    );
  }

  /** Whether any item of the project with a signature awaits a near-duplicate check. */
  async hasUncheckedSignatures(projectId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `SELECT 1 FROM items i JOIN item_signatures s ON s.item_id = i.id
        WHERE i.project_id = $1 AND NOT i.duplicates_checked LIMIT 1`,
      [projectId],
    );
    return rows.length > 0;
  }

  /**
   * A page of the signatures a near-duplicate check compares: of the project's `newest` most
   * recent items, those with a signature, oldest first (keyset on creation time and id;
   * `after` is the last row of the previous page).
   */
  async signaturePage(input: {
    projectId: string;
    newest: number;
    after: { createdAt: string; itemId: string } | null;
    limit: number;
  }): Promise<{ itemId: string; createdAt: string; checked: boolean; signature: Float32Array }[]> {
    const { rows } = await this.db.query<{
      id: string;
      created_at: string;
      duplicates_checked: boolean;
      signature: Buffer;
    }>(
      `WITH recent AS (
         SELECT i.id, i.created_at FROM items i
          WHERE i.project_id = $1 ORDER BY i.created_at DESC, i.id DESC LIMIT $2)
       SELECT i.id, i.created_at::text AS created_at, i.duplicates_checked,
              vector_send(s.signature) AS signature
         FROM recent r JOIN items i ON i.id = r.id
         JOIN item_signatures s ON s.item_id = r.id
        WHERE ($3::timestamptz IS NULL OR (i.created_at, i.id) > ($3::timestamptz, $4::uuid))
        ORDER BY i.created_at, i.id LIMIT $5`,
      [
        input.projectId,
        input.newest,
        input.after?.createdAt ?? null,
        input.after?.itemId ?? null,
        input.limit,
      ],
    );
    return rows.map((r) => ({
      itemId: r.id,
      createdAt: r.created_at,
      checked: r.duplicates_checked,
      signature: decodeVector(r.signature),
    }));
  }

  /**
   * Stores one near-duplicate check: each marked item names the earlier item it duplicates
   * (an item already marked keeps its mark), and every checked item is marked checked.
   * Returns how many items were newly marked.
   */
  async markNearDuplicates(input: {
    projectId: string;
    marks: { itemId: string; ofId: string }[];
    checkedIds: string[];
  }): Promise<number> {
    return transaction(this.db, async (client) => {
      const marked = await client.query(
        `UPDATE items i SET near_duplicate_of = m.of_id
           FROM unnest($2::uuid[], $3::uuid[]) AS m(item_id, of_id)
          WHERE i.id = m.item_id AND i.project_id = $1 AND i.near_duplicate_of IS NULL`,
        [input.projectId, input.marks.map((m) => m.itemId), input.marks.map((m) => m.ofId)],
      );
      await client.query(
        `UPDATE items SET duplicates_checked = true
          WHERE project_id = $1 AND id = ANY($2::uuid[]) AND NOT duplicates_checked`,
        [input.projectId, input.checkedIds],
      );
      return marked.rowCount ?? 0;
    });
  }

  /** Rows by id (any order; unknown or malformed ids are absent). */
  async byIds(ids: readonly string[]): Promise<Item[]> {
    const valid = ids.filter((id) => isUuid(id));
    if (valid.length === 0) return [];
    const { rows } = await this.db.query('SELECT * FROM items WHERE id = ANY($1::uuid[])', [valid]);
    return rows.map((r) => asModel<Item>(r)!);
  }

  /** A project's items of some splits in content-hash order (stable across re-imports). */
  async forExport(projectId: string, splits: Split[]): Promise<ExportItem[]> {
    const items = await this.prisma.item.findMany({
      where: { projectId, split: { in: splits } },
      orderBy: { contentHash: 'asc' },
      select: {
        id: true,
        blobKey: true,
        mimeType: true,
        width: true,
        height: true,
        channels: true,
        hiddenTruth: true,
      },
    });
    return items.map(({ hiddenTruth, ...item }) => ({
      ...item,
      hiddenClassId: hiddenTruth?.labelClassId ?? null,
    }));
  }

  /**
   * Sizes and channels of a project's readable pool images: what an encoder trained on them
   * should take as input.
   */
  async poolShapes(projectId: string): Promise<PoolShapes> {
    const { rows } = await this.db.query<{
      images: number;
      sizes: number;
      max_side: number | null;
      max_channels: number | null;
      width: number | null;
      height: number | null;
    }>(
      `SELECT count(*)::int AS images,
              count(DISTINCT (width, height))::int AS sizes,
              max(greatest(width, height)) AS max_side,
              max(channels) AS max_channels,
              min(width) AS width, min(height) AS height
         FROM items
        WHERE project_id = $1 AND split = 'POOL' AND NOT (metadata ? 'unreadable')`,
      [projectId],
    );
    const r = rows[0]!;
    return {
      images: r.images,
      sizes: r.sizes,
      maxSide: r.max_side ?? 0,
      maxChannels: r.max_channels ?? 0,
      commonSize: r.sizes === 1 ? { width: r.width!, height: r.height! } : null,
    };
  }

  /** A page of a project's readable pool images in item-id order, after `after`. */
  async poolPage(input: {
    projectId: string;
    after: string | null;
    limit: number;
  }): Promise<{ id: string; blobKey: string }[]> {
    const { rows } = await this.db.query<{ id: string; blob_key: string }>(
      `SELECT id, blob_key FROM items
        WHERE project_id = $1 AND split = 'POOL' AND NOT (metadata ? 'unreadable')
          AND ($2::uuid IS NULL OR id > $2)
        ORDER BY id LIMIT $3`,
      [input.projectId, input.after, input.limit],
    );
    return rows.map((r) => ({ id: r.id, blobKey: r.blob_key }));
  }

  /** Simulation ground truth of items (items without any are absent). */
  async hiddenTruth(itemIds: string[]): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ item_id: string; label_class_id: string }>(
      'SELECT item_id, label_class_id FROM hidden_truth WHERE item_id = ANY($1::uuid[])',
      [itemIds],
    );
    return new Map(rows.map((r) => [r.item_id, r.label_class_id]));
  }

  /** Items of a project the encoder has not encoded yet (unreadable ones left out). */
  async countWithoutFeatures(projectId: string, encoderVersionId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM items i
        WHERE i.project_id = $1 AND NOT (i.metadata ? 'unreadable')
          AND NOT EXISTS (SELECT 1 FROM item_features f
                           WHERE f.encoder_version_id = $2 AND f.item_id = i.id)`,
      [projectId, encoderVersionId],
    );
    return rows[0]!.n;
  }

  /**
   * Marks an item its project's encoder could not read (a corrupt or unsupported image), with
   * the reason; ingest passes over it from then on.
   */
  async markUnreadable(itemId: string, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE items SET metadata = metadata || jsonb_build_object('unreadable', $2::text)
        WHERE id = $1`,
      [itemId, reason],
    );
  }

  /** Projects with an encoder and items it has not encoded yet (unreadable ones aside). */
  async projectsAwaitingEmbedding(): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT p.id FROM projects p
        WHERE p.encoder_version_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM items i
                       WHERE i.project_id = p.id AND NOT (i.metadata ? 'unreadable')
                         AND NOT EXISTS (SELECT 1 FROM item_features f
                                          WHERE f.encoder_version_id = p.encoder_version_id
                                            AND f.item_id = i.id))`,
    );
    return rows.map((r) => r.id);
  }

  /** Items of a project with filters, one page after `after`, plus the total that match. */
  async search(input: {
    projectId: string;
    activeHeadVersionId: string | null;
    filter: ItemFilter;
    sort: ItemSort;
    first: number;
    after?: string | null;
    /** Leaves GOLD items out (for people whose gold questions must stay blind). */
    hideGold?: boolean;
  }) {
    if (!Number.isInteger(input.first) || input.first < 1 || input.first > 500) {
      throw new AppError('BAD_USER_INPUT', 'first must be 1..500');
    }
    const params: unknown[] = [input.projectId, input.activeHeadVersionId];
    const where = ['i.project_id = $1'];
    const add = (value: unknown, clause: (p: string) => string) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    const f = input.filter;
    if (f.split) add(f.split, (p) => `i.split = ${p}::"Split"`);
    if (input.hideGold) where.push(`i.split <> 'GOLD'`);
    if (f.labeled != null) where.push(`cl.label_class_id IS ${f.labeled ? 'NOT ' : ''}NULL`);
    if (f.labelClassIds?.length) {
      add(f.labelClassIds, (p) => `cl.label_class_id = ANY(${p}::uuid[])`);
    }
    if (f.labelSources?.length) {
      add(
        f.labelSources,
        (p) => `cl.source = ANY(${p}::"LabelSource"[]) AND cl.label_class_id IS NOT NULL`,
      );
    }
    if (f.predictedClassIds?.length) {
      add(f.predictedClassIds, (p) => `p.label_class_id = ANY(${p}::uuid[])`);
    }
    for (const [range, column] of [
      [f.confidence, 'p.confidence'],
      [f.margin, 'p.margin'],
      [f.anomalyScore, 'p.anomaly_score'],
    ] as const) {
      if (range?.min != null) add(range.min, (p) => `${column} >= ${p}`);
      if (range?.max != null) add(range.max, (p) => `${column} <= ${p}`);
    }
    if (f.ids) {
      if (f.ids.length > 500) throw new AppError('BAD_USER_INPUT', 'ids: at most 500');
      add(
        f.ids.filter((id) => isUuid(id)),
        (p) => `i.id = ANY(${p}::uuid[])`,
      );
    }
    if (f.roundId) {
      add(
        f.roundId,
        (p) => `(EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id AND l.round_id = ${p})
                 OR EXISTS (SELECT 1 FROM label_tasks t WHERE t.item_id = i.id AND t.round_id = ${p}))`,
      );
    }
    if (f.nearDuplicate != null) {
      where.push(`i.near_duplicate_of IS ${f.nearDuplicate ? 'NOT ' : ''}NULL`);
    }
    const sort = SORTS[input.sort];
    // Sorting by a prediction's score leaves out items that have none.
    if (input.sort !== 'RECENT') where.push(`${sort.key} IS NOT NULL`);
    const from = `FROM items i
      LEFT JOIN current_labels cl ON cl.item_id = i.id
      LEFT JOIN predictions p ON p.item_id = i.id AND p.head_version_id = $2`;
    const filtered = where.join(' AND ');
    const countParams = [...params];
    let page = filtered;
    if (input.after) {
      const c = decodeCursor(input.after);
      params.push(c.v, c.id);
      const [v, id] = [`$${params.length - 1}::${sort.cast}`, `$${params.length}::uuid`];
      const beyond = sort.dir === 'DESC' ? '<' : '>';
      page += ` AND (${sort.key} ${beyond} ${v} OR (${sort.key} = ${v} AND i.id > ${id}))`;
    }
    params.push(input.first + 1);
    const [rows, count] = await Promise.all([
      this.db.query(
        `SELECT i.*, ${input.sort === 'RECENT' ? 'i.created_at::text' : sort.key} AS sort_value
         ${from} WHERE ${page}
         ORDER BY ${sort.key} ${sort.dir}, i.id ASC LIMIT $${params.length}`,
        params,
      ),
      this.db.query<{ n: string }>(`SELECT count(*) AS n ${from} WHERE ${filtered}`, countParams),
    ]);
    const more = rows.rows.length > input.first;
    const edges = rows.rows.slice(0, input.first).map((r) => {
      const { sortValue, ...item } = asModel<Item & { sortValue: string | number }>(r)!;
      return { cursor: encodeCursor({ v: sortValue, id: item.id }), node: item as Item };
    });
    return {
      edges,
      pageInfo: { hasNextPage: more, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: Number(count.rows[0]!.n),
    };
  }
}
