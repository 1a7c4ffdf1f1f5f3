import pg from 'pg';

/**
 * The pg pool every repository queries through. An idle connection that the server closes
 * (a restart, a terminated backend) emits `error` on the pool; without a listener that
 * would end the process, so it is logged and the pool opens a new connection next time.
 */
export function createPool(databaseUrl: string, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, ...options });
  pool.on('error', (error) => {
    console.error(`postgres: an idle connection failed (${error.message}); it will be replaced`);
  });
  return pool;
}

export type { Pool, PoolClient } from 'pg';
