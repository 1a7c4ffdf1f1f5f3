// Cluster-level SQL (databases, extensions, server facts) for the services command and the
// test fixtures: each call opens its own short connection, so it works before any pool exists.
import pg from 'pg';

async function once<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<T>(sql, params);
  } finally {
    await client.end();
  }
}

/** The same server's URL with another database name. */
export function databaseUrlFor(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Creates the database of `url` when it is missing (connecting to `postgres`); true if it did. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = new URL(url).pathname.slice(1);
  const admin = databaseUrlFor(url, 'postgres');
  const exists = await once(admin, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount) return false;
  await once(admin, `CREATE DATABASE ${quoteIdent(name)}`);
  return true;
}

/** Creates database `name` on the server of `url`, optionally as a copy of `template`. */
export async function createDatabase(url: string, name: string, template?: string) {
  await once(
    databaseUrlFor(url, 'postgres'),
    `CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`,
  );
}

/** Drops database `name` on the server of `url`, closing its connections. */
export async function dropDatabase(url: string, name: string) {
  await once(
    databaseUrlFor(url, 'postgres'),
    `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`,
  );
}

/** Whether this server has the pgvector extension to install. */
export async function vectorAvailable(url: string): Promise<boolean> {
  const { rowCount } = await once(
    url,
    "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'",
  );
  return (rowCount ?? 0) > 0;
}

export async function enableVector(url: string): Promise<void> {
  await once(url, 'CREATE EXTENSION IF NOT EXISTS vector');
}

/** Server version and pgvector version (null when the extension is not enabled). */
export async function serverVersions(
  url: string,
): Promise<{ server: string; vector: string | null }> {
  const { rows } = await once<{ server: string; vector: string | null }>(
    url,
    "SELECT current_setting('server_version') AS server, " +
      "(SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector",
  );
  return rows[0]!;
}

/** Whether database `name` exists on the server of `url`. */
export async function databaseExists(url: string, name: string): Promise<boolean> {
  const { rowCount } = await once(
    databaseUrlFor(url, 'postgres'),
    'SELECT 1 FROM pg_database WHERE datname = $1',
    [name],
  );
  return (rowCount ?? 0) > 0;
}

/** Renames database `from` to `to` on the server of `url` (nothing may be connected to it). */
export async function renameDatabase(url: string, from: string, to: string) {
  await once(
    databaseUrlFor(url, 'postgres'),
    `ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`,
  );
}

/** Tables in the public schema of the database of `url` (0: nothing was migrated into it). */
export async function tableCount(url: string): Promise<number> {
  const { rows } = await once<{ n: number }>(
    url,
    "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
  );
  return rows[0]!.n;
}

/** Names of the migrations recorded as applied in the database of `url`, in order. */
export async function appliedMigrations(url: string): Promise<string[]> {
  const { rows } = await once<{ migration_name: string }>(
    url,
    `SELECT migration_name FROM _prisma_migrations
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
  return rows.map((r) => r.migration_name);
}
