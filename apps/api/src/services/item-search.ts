import type { Item, Pool } from '@beanstalk/db';
import { AppError, isUuid } from '@beanstalk/shared';
import type { ItemFilter, ItemSort } from '../generated/graphql.ts';

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

type ItemRow = {
  id: string;
  project_id: string;
  content_hash: string;
  blob_key: string;
  mime_type: string;
  width: number;
  height: number;
  channels: number;
  split: Item['split'];
  source_ref: string | null;
  metadata: Item['metadata'];
  created_at: Date;
  sort_value: string | number;
};

const toItem = (r: ItemRow): Item => ({
  id: r.id,
  projectId: r.project_id,
  contentHash: r.content_hash,
  blobKey: r.blob_key,
  mimeType: r.mime_type,
  width: r.width,
  height: r.height,
  channels: r.channels,
  split: r.split,
  sourceRef: r.source_ref,
  metadata: r.metadata,
  createdAt: r.created_at,
});

/** Items of a project with filters, one page after `after`, plus the total that match. */
export async function searchItems(
  pool: Pool,
  input: {
    projectId: string;
    activeHeadVersionId: string | null;
    filter: ItemFilter;
    sort: ItemSort;
    first: number;
    after?: string | null;
  },
) {
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
  if (f.labeled != null) where.push(`cl.label_class_id IS ${f.labeled ? 'NOT ' : ''}NULL`);
  if (f.labelClassIds?.length) add(f.labelClassIds, (p) => `cl.label_class_id = ANY(${p}::uuid[])`);
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
    pool.query<ItemRow>(
      `SELECT i.*, ${input.sort === 'RECENT' ? 'i.created_at::text' : sort.key} AS sort_value
       ${from} WHERE ${page}
       ORDER BY ${sort.key} ${sort.dir}, i.id ASC LIMIT $${params.length}`,
      params,
    ),
    pool.query<{ n: string }>(`SELECT count(*) AS n ${from} WHERE ${filtered}`, countParams),
  ]);
  const more = rows.rows.length > input.first;
  const edges = rows.rows.slice(0, input.first).map((r) => ({
    cursor: encodeCursor({ v: r.sort_value, id: r.id }),
    node: toItem(r),
  }));
  return {
    edges,
    pageInfo: { hasNextPage: more, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: Number(count.rows[0]!.n),
  };
}
