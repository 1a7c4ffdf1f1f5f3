import pg from 'pg';

/** Where a repository's SQL goes: the pool, or one connection inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Takes a connection from the pool that keeps an error listener while it is out: the pool
 * listens only to idle connections, and one the server ends between two queries (a restart)
 * would otherwise throw out of the process. The query in flight fails as usual; a broken
 * connection is not reused.
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  const onError = (error: Error) => {
    console.error(`postgres: a connection in use failed (${error.message})`);
  };
  client.on('error', onError);
  const release = client.release.bind(client);
  client.release = (error?: Error | boolean) => {
    client.removeListener('error', onError);
    release(error);
  };
  return client;
}

/**
 * Runs `fn` in a transaction. On a pool it takes a connection and opens one (`begin` may carry
 * SET LOCALs so they cost no extra round trip); on a connection handed out by a transaction it
 * runs inside that one, so repositories compose into one caller's transaction.
 */
export async function transaction<T>(
  db: Queryable,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  if (!(db instanceof pg.Pool)) {
    const settings = begin.replace(/^BEGIN;?\s*/, '');
    if (settings) await db.query(settings);
    return fn(db);
  }
  const client = await checkout(db);
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A row read with pg in the shape Prisma gives it (camelCase keys; pg already parses
 * timestamps, numbers and JSON alike). For hot paths, where a Prisma call costs ~1.5 ms more
 * than the query itself.
 */
export function asModel<T>(row: Record<string, unknown> | undefined): T | null {
  return row ? (Object.fromEntries(Object.entries(row).map(([k, v]) => [camel(k), v])) as T) : null;
}

export const UNIQUE_VIOLATION = '23505';
