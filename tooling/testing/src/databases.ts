import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '@beanstalk/config';
import { createPool, createPrisma, migrate, type Pool, type PrismaClient } from '@beanstalk/db';

/**
 * Migrated once per test run by the global setup (named after that process, so parallel runs
 * such as `turbo run test` never share one); every test database is cloned from it.
 */
export function templateDatabase(): string {
  const name = process.env.BEANSTALK_TEST_TEMPLATE;
  if (!name) throw new Error('no template database: run tests through vitest (global setup)');
  return name;
}

export function databaseUrl(name: string): string {
  const url = new URL(loadConfig().postgres.databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn` on a connection to the `postgres` database (create, drop, rename databases). */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Cannot reach Postgres at ${loadConfig().postgres.databaseUrl} (${(error as Error).message}). ` +
        'Start the services first: npm run services -- up',
      { cause: error },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createEmptyDatabase(prefix = 'test'): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Builds a template database from the migrations in the working tree. */
export async function prepareTemplate(name: string): Promise<void> {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  });
  await migrate(databaseUrl(name));
}

export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
  pool: Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `test_${randomBytes(5).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabase()}"`));
  const url = databaseUrl(name);
  const prisma = createPrisma(url);
  const pool = createPool(url);
  return {
    name,
    url,
    prisma,
    pool,
    async drop() {
      await prisma.$disconnect();
      await pool.end();
      await dropDatabase(name);
    },
  };
}
