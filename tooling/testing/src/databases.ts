import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '@beanstalk/config';
import { createPool, createPrisma, migrate, type Pool, type PrismaClient } from '@beanstalk/db';

/** Migrated once per test run by the global setup; every test database is cloned from it. */
export const TEMPLATE_DATABASE = 'beanstalk_test_template';

export function databaseUrl(name: string): string {
  const url = new URL(loadConfig().postgres.databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Cannot reach Postgres at ${loadConfig().postgres.databaseUrl} (${(error as Error).message}). ` +
        'Start the services first: npm run services -- up',
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

/** Rebuilds the template from the migrations in the working tree. */
export async function prepareTemplate(): Promise<void> {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DATABASE}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
  });
  await migrate(databaseUrl(TEMPLATE_DATABASE));
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
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`));
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
