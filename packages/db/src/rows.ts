import type { Pool, PoolClient } from 'pg';
import type {
  ApiKey,
  HeadVersion,
  Item,
  Label,
  LabelClass,
  Prediction,
  Project,
  Round,
  User,
} from './generated/prisma/client.ts';

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A row read with pg in the shape Prisma gives it (camelCase keys; pg already parses
 * timestamps, numbers and JSON alike). For hot paths, where a Prisma call costs ~1.5 ms more
 * than the query itself.
 */
function asModel<T>(row: Record<string, unknown> | undefined): T | null {
  return row ? (Object.fromEntries(Object.entries(row).map(([k, v]) => [camel(k), v])) as T) : null;
}

export async function projectBySlug(db: Pool | PoolClient, slug: string): Promise<Project | null> {
  const { rows } = await db.query('SELECT * FROM projects WHERE slug = $1', [slug]);
  return asModel<Project>(rows[0]);
}

export async function apiKeyByHash(db: Pool | PoolClient, keyHash: string): Promise<ApiKey | null> {
  const { rows } = await db.query('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash]);
  return asModel<ApiKey>(rows[0]);
}

/** Tables readable by id this way, with the model each row becomes. */
interface ById {
  projects: Project;
  items: Item;
  label_classes: LabelClass;
  users: User;
  rounds: Round;
  head_versions: HeadVersion;
}

/** Rows by id (any order; unknown ids are simply absent). */
export async function rowsByIds<T extends keyof ById>(
  db: Pool | PoolClient,
  table: T,
  ids: readonly string[],
): Promise<ById[T][]> {
  const { rows } = await db.query(`SELECT * FROM ${table} WHERE id = ANY($1::uuid[])`, [ids]);
  return rows.map((r) => asModel<ById[T]>(r)!);
}

/** The label histories of items, oldest first. */
export async function labelsOfItems(
  db: Pool | PoolClient,
  itemIds: readonly string[],
): Promise<Label[]> {
  const { rows } = await db.query(
    'SELECT * FROM labels WHERE item_id = ANY($1::uuid[]) ORDER BY created_at, id',
    [itemIds],
  );
  return rows.map((r) => asModel<Label>(r)!);
}

/** Predictions for (head version, item) pairs. */
export async function predictionsOf(
  db: Pool | PoolClient,
  pairs: readonly { headVersionId: string; itemId: string }[],
): Promise<Prediction[]> {
  const { rows } = await db.query(
    `SELECT p.* FROM predictions p
       JOIN unnest($1::uuid[], $2::uuid[]) AS k(head_version_id, item_id)
         ON p.head_version_id = k.head_version_id AND p.item_id = k.item_id`,
    [pairs.map((p) => p.headVersionId), pairs.map((p) => p.itemId)],
  );
  return rows.map((r) => asModel<Prediction>(r)!);
}
