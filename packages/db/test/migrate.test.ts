import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, databaseUrl, dropDatabase } from '@beanstalk/testing';
import { migrate, MigrationError, MIGRATIONS_DIR } from '../src/index.ts';

describe('migration runner', () => {
  let name: string;
  let url: string;
  let copy: string;
  /** Every migration folder in the checkout, in order. */
  let all: string[];
  beforeAll(async () => {
    name = await createEmptyDatabase('migrate');
    url = databaseUrl(name);
    copy = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    await cp(MIGRATIONS_DIR, copy, { recursive: true });
    all = (await readdir(copy, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  });
  afterAll(async () => {
    await dropDatabase(name);
    await rm(copy, { recursive: true, force: true });
  });

  it('applies every migration to an empty database and records it as Prisma does', async () => {
    const result = await migrate(url, { dir: copy });
    expect(all[0]).toBe('20261128000000_init');
    expect(result.applied).toEqual(all);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(
      'SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    const tables = await client.query(
      "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('projects', 'labels', 'items', 'item_vectors')",
    );
    await client.end();
    const sql = await readFile(path.join(copy, '20261128000000_init', 'migration.sql'));
    expect(rows).toHaveLength(all.length);
    expect(rows[0].checksum).toBe(createHash('sha256').update(sql).digest('hex'));
    expect(rows[0].finished_at).toBeInstanceOf(Date);
    expect(rows[0].applied_steps_count).toBe(1);
    expect(rows[0].rolled_back_at).toBeNull();
    expect(tables.rows[0].n).toBe(4);
  });

  it('is a no-op the second time', async () => {
    const result = await migrate(url, { dir: copy });
    expect(result).toEqual({ applied: [], alreadyApplied: all, unknown: [] });
  });

  it('refuses to run when an applied migration file was edited', async () => {
    const file = path.join(copy, '20261128000000_init', 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);
    await expect(migrate(url, { dir: copy })).rejects.toThrow(MigrationError);
    await expect(migrate(url, { dir: copy })).rejects.toThrow(
      /20261128000000_init was modified after it was applied/,
    );
  });

  it('rolls back a failing migration completely and names it', async () => {
    const fresh = await createEmptyDatabase('migrate_bad');
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-bad-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await cp(path.join(dir, '20261128000000_init'), path.join(dir, '20261128000001_broken'), {
        recursive: true,
      });
      await writeFile(
        path.join(dir, '20261128000001_broken', 'migration.sql'),
        'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n',
      );
      await expect(migrate(databaseUrl(fresh), { dir })).rejects.toThrow(
        /20261128000001_broken failed and was rolled back/,
      );
      const client = new pg.Client({ connectionString: databaseUrl(fresh) });
      await client.connect();
      const halfDone = await client.query("SELECT to_regclass('half_done') AS t");
      const recorded = await client.query('SELECT migration_name FROM _prisma_migrations');
      await client.end();
      expect(halfDone.rows[0].t).toBeNull();
      expect(recorded.rows.map((r) => r.migration_name)).toEqual(['20261128000000_init']);
    } finally {
      await dropDatabase(fresh);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
