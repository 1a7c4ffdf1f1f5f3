// The local cluster's access: passwords only, the platform's role without superuser rights,
// and a database made by the superuser (before the platform had a role) handed over whole.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, LOCAL_POSTGRES, localPostgresUrl } from '@beanstalk/config';
import { cluster, migrate } from '../src/index.ts';

const config = loadConfig();
const admin = localPostgresUrl(config.dataDir, config.postgres.port, 'admin', 'postgres');
const name = `legacy_${process.pid}`;

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the local cluster', () => {
  afterAll(() => query(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  it('asks for a password, and the platform connects as a role without superuser rights', async () => {
    const app = new URL(config.postgres.databaseUrl);
    expect(app.username).toBe(LOCAL_POSTGRES.appRole);
    const [me] = await query(
      config.postgres.databaseUrl,
      'SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user',
    );
    expect(me).toEqual({ rolsuper: false, rolcreaterole: false });
    const noPassword = new URL(admin);
    noPassword.password = '';
    await expect(query(noPassword.toString(), 'SELECT 1')).rejects.toThrow(/password/);
    const wrong = new URL(admin);
    wrong.password = 'not-it';
    await expect(query(wrong.toString(), 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    );
  });

  it("hands a superuser's database, every table, type and function in it, to the platform's role", async () => {
    await query(admin, `CREATE DATABASE ${name}`);
    await migrate(cluster.databaseUrlFor(admin, name));
    await cluster.ensureDatabase(admin, name, LOCAL_POSTGRES.appRole);
    const asApp = localPostgresUrl(config.dataDir, config.postgres.port, 'app', name);
    expect((await migrate(asApp)).applied).toEqual([]);
    const foreign = await query(
      asApp,
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
       UNION ALL
       SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
    );
    expect(foreign).toEqual([]);
    // What a later migration does.
    await query(asApp, 'ALTER TABLE projects ADD COLUMN probe int');
  });
});
