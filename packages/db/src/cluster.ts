// Cluster-level SQL (databases, extensions, server facts) for the services command and the
// test fixtures: each call opens its own short connection, so it works before any pool exists.
import pg from 'pg';

async function once<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ connectionString: url });
  // A server that goes away fails the query; it must not also throw out of the process.
  client.on('error', () => undefined);
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
// DDL takes no parameters: a literal, quoted the way Postgres reads it.
const escapeLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * As the superuser at `adminUrl`: makes sure database `name` exists and belongs to `owner`,
 * with everything in its public schema (a database made before the platform had a role of its
 * own belongs to the superuser). Returns whether it created the database.
 */
export async function ensureDatabase(adminUrl: string, name: string, owner: string) {
  const { rows } = await once<{ owner: string }>(
    databaseUrlFor(adminUrl, 'postgres'),
    'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
    [name],
  );
  if (!rows[0]) {
    await once(
      databaseUrlFor(adminUrl, 'postgres'),
      `CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(owner)}`,
    );
    return true;
  }
  if (rows[0].owner !== owner) await transferOwnership(adminUrl, name, owner);
  return false;
}

/** Gives database `name`, its public schema and every object in it (not extensions') to `owner`. */
async function transferOwnership(adminUrl: string, name: string, owner: string) {
  await once(
    databaseUrlFor(adminUrl, 'postgres'),
    `ALTER DATABASE ${quoteIdent(name)} OWNER TO ${quoteIdent(owner)}`,
  );
  // Tables (their indexes and owned sequences follow), free-standing sequences, views,
  // functions and enum types; objects that belong to an extension (pgvector's) stay.
  await once(
    databaseUrlFor(adminUrl, name),
    `DO $$
     DECLARE r record;
     BEGIN
       EXECUTE format('ALTER SCHEMA public OWNER TO %I', ${escapeLiteral(owner)});
       FOR r IN
         SELECT format('ALTER %s %s OWNER TO %I',
                       CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                      WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                       c.oid::regclass, ${escapeLiteral(owner)}) AS cmd
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
            AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                               AND d.refobjid <> c.oid AND d.deptype IN ('e', 'a', 'i'))
       UNION ALL
         SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, ${escapeLiteral(owner)})
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                               AND d.deptype = 'e')
       UNION ALL
         SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, ${escapeLiteral(owner)})
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = 'public' AND t.typtype = 'e'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                               AND d.deptype = 'e')
       LOOP
         EXECUTE r.cmd;
       END LOOP;
     END $$`,
  );
}

/**
 * As the superuser at `adminUrl`: makes sure login role `role` exists with `password`, no
 * superuser or role-making rights, allowed to create databases (the tests make their own) and
 * to end other non-superusers' sessions in them.
 * Also sets the superuser's own password to `adminPassword`.
 */
export async function ensureRoles(
  adminUrl: string,
  role: string,
  password: string,
  adminPassword: string,
) {
  const url = databaseUrlFor(adminUrl, 'postgres');
  const admin = decodeURIComponent(new URL(adminUrl).username);
  const exists = await once(url, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  const options = `LOGIN NOSUPERUSER NOCREATEROLE CREATEDB PASSWORD ${escapeLiteral(password)}`;
  await once(
    url,
    exists.rowCount
      ? `ALTER ROLE ${quoteIdent(role)} ${options}`
      : `CREATE ROLE ${quoteIdent(role)} ${options}`,
  );
  // Dropping a test database WITH (FORCE) ends its sessions, autovacuum's included, which
  // takes the right to signal other roles' (never a superuser's) processes.
  await once(url, `GRANT pg_signal_backend TO ${quoteIdent(role)}`);
  await once(url, `ALTER ROLE ${quoteIdent(admin)} PASSWORD ${escapeLiteral(adminPassword)}`);
}

/** Makes the server re-read pg_hba.conf and its settings. */
export async function reloadConfig(adminUrl: string) {
  await once(databaseUrlFor(adminUrl, 'postgres'), 'SELECT pg_reload_conf()');
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
