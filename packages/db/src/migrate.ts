import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { repoRoot } from '@beanstalk/config';

export const MIGRATIONS_DIR = path.join(repoRoot, 'prisma', 'migrations');

/** The advisory lock key `prisma migrate` takes, so our runner and Prisma's never overlap. */
const PRISMA_ADVISORY_LOCK = 72707369;

// The table exactly as Prisma's schema engine creates it.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
  /** Recorded in the database but absent from the folder (applied by a newer checkout). */
  unknown: string[];
}

interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

async function readMigrations(dir: string): Promise<LocalMigration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(dir, name, 'migration.sql'));
      // Prisma's checksum: sha256 of the file's bytes, lowercase hex.
      const checksum = createHash('sha256').update(bytes).digest('hex');
      return { name, sql: bytes.toString('utf8'), checksum };
    }),
  );
}

/**
 * Applies pending migrations in order, each in its own transaction, recording them in
 * `_prisma_migrations` as `prisma migrate deploy` does. Refuses to run when an applied
 * migration's file has changed or an earlier attempt is marked failed.
 */
export async function migrate(
  databaseUrl: string,
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<MigrationResult> {
  const dir = options.dir ?? MIGRATIONS_DIR;
  const log = options.log ?? (() => {});
  const local = await readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  // A server that goes away fails the query; it must not also throw out of the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
    }>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at
         FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const live = rows.filter((r) => r.rolled_back_at === null);
    const failed = live.filter((r) => r.finished_at === null);
    if (failed.length > 0) {
      throw new MigrationError(
        `Migration ${failed.map((f) => f.migration_name).join(', ')} failed earlier and is ` +
          'marked unfinished in _prisma_migrations. Fix the database by hand, then mark it ' +
          'rolled back (`prisma migrate resolve --rolled-back NAME`) before migrating again.',
      );
    }
    const appliedByName = new Map(live.map((r) => [r.migration_name, r]));
    for (const m of local) {
      const row = appliedByName.get(m.name);
      if (row && row.checksum !== m.checksum) {
        throw new MigrationError(
          `Migration ${m.name} was modified after it was applied (checksum ${row.checksum} in ` +
            `the database, ${m.checksum} on disk). Restore the original file and put the ` +
            'change in a new migration.',
        );
      }
    }
    const result: MigrationResult = {
      applied: [],
      alreadyApplied: local.filter((m) => appliedByName.has(m.name)).map((m) => m.name),
      unknown: [...appliedByName.keys()].filter((name) => !local.some((m) => m.name === name)),
    };
    for (const m of local.filter((m) => !appliedByName.has(m.name))) {
      log(`applying ${m.name}`);
      await client.query('BEGIN');
      try {
        const id = randomUUID();
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at)
           VALUES ($1, $2, $3, now())`,
          [id, m.checksum, m.name],
        );
        await client.query(m.sql);
        await client.query(
          `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1
            WHERE id = $1`,
          [id],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationError(
          `Migration ${m.name} failed and was rolled back: ${(error as Error).message}`,
        );
      }
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.end();
  }
}
