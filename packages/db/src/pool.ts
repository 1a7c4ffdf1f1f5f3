import pg from 'pg';

/**
 * A pg pool for the SQL Prisma cannot express (vectors, COPY-sized batches, locks). Vectors
 * travel as text literals (see vectors.ts), so no per-connection type registration is needed.
 */
export function createPool(databaseUrl: string, options: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max: 10, ...options });
}

export type { Pool, PoolClient } from 'pg';
