import { randomBytes } from 'node:crypto';
import { loadConfig, redactUrl } from '@beanstalk/config';
import { cluster, createDatabase, migrate, type Database } from '@beanstalk/db';

/**
 * Migrated once per test run by the global setup (named after that process, so parallel runs
 * such as `turbo run test` never share one); every test database is cloned from it.
 */
export function templateDatabase(): string {
  const name = process.env.BEANSTALK_TEST_TEMPLATE;
  if (!name) throw new Error('no template database: run tests through vitest (global setup)');
  return name;
}

/** The configured server's URL for database `name`. */
export function databaseUrl(name: string): string {
  return cluster.databaseUrlFor(loadConfig().postgres.databaseUrl, name);
}

/** Runs a cluster operation, saying how to start Postgres when it is not reachable. */
async function onServer<T>(fn: (serverUrl: string) => Promise<T>): Promise<T> {
  const url = loadConfig().postgres.databaseUrl;
  try {
    return await fn(url);
  } catch (error) {
    if ((error as { code?: string }).code === 'ECONNREFUSED') {
      throw new Error(
        `Cannot reach Postgres at ${redactUrl(url)} (${(error as Error).message}). ` +
          'Start the services first: npm run services -- up',
        { cause: error },
      );
    }
    throw error;
  }
}

/** An empty database named `prefix` and a random suffix. */
export async function createEmptyDatabase(prefix = 'test'): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await createNamedDatabase(name);
  return name;
}

export function createNamedDatabase(name: string): Promise<void> {
  return onServer((url) => cluster.createDatabase(url, name));
}

/** Creates database `name` as a copy of `template` (which nothing may be connected to). */
export function copyDatabase(template: string, name: string): Promise<void> {
  return onServer((url) => cluster.createDatabase(url, name, template));
}

export function databaseExists(name: string): Promise<boolean> {
  return onServer((url) => cluster.databaseExists(url, name));
}

export function renameDatabase(from: string, to: string): Promise<void> {
  return onServer((url) => cluster.renameDatabase(url, from, to));
}

export async function dropDatabase(name: string): Promise<void> {
  await onServer((url) => cluster.dropDatabase(url, name));
}

/** Builds a template database from the migrations in the working tree. */
export async function prepareTemplate(name: string): Promise<void> {
  await dropDatabase(name);
  await createNamedDatabase(name);
  await migrate(databaseUrl(name));
}

export interface TestDatabase {
  name: string;
  url: string;
  db: Database;
  /** The same connections as db's, for assertions and fixtures. */
  prisma: Database['prisma'];
  pool: Database['pool'];
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `test_${randomBytes(5).toString('hex')}`;
  await copyDatabase(templateDatabase(), name);
  const url = databaseUrl(name);
  const db = createDatabase(url);
  return {
    name,
    url,
    db,
    // eslint-disable-next-line no-restricted-syntax -- tests inspect rows directly
    prisma: db.prisma,
    pool: db.pool,
    async drop() {
      await db.close();
      await dropDatabase(name);
    },
  };
}
