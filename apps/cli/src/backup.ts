import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '@beanstalk/config';
import { cluster } from '@beanstalk/db';

const execFileAsync = promisify(execFile);

/**
 * Runs a Postgres client tool against `url`: the password goes in PGPASSWORD, not on the
 * command line, so neither `ps` nor an error message shows it.
 */
function pgTool(config: Config, tool: string, url: string, args: (url: string) => string[]) {
  const bare = new URL(url);
  const password = decodeURIComponent(bare.password);
  bare.password = '';
  return execFileAsync(path.join(config.postgres.binDir, tool), args(bare.toString()), {
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    maxBuffer: 64 * 1024 * 1024,
  });
}

export interface BackupManifest {
  format: 'beanstalk-backup/1';
  createdAt: string;
  database: string;
  /** Migrations applied in the database at backup time. */
  migrations: string[];
  blobs: { files: number; bytes: number };
}

/** Files and bytes under a folder. */
async function tally(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

/**
 * A consistent backup into `out` (a new or empty folder): the database as one pg_dump
 * snapshot (custom format), then the blob store. Blobs are content-addressed and written
 * before the rows that name them, so every blob the snapshot refers to is in the copy.
 */
export async function backup(
  config: Config,
  out: string,
  log: (line: string) => void,
): Promise<BackupManifest> {
  await mkdir(out, { recursive: true });
  if ((await readdir(out)).length > 0) throw new Error(`${out} is not empty`);
  const url = config.postgres.databaseUrl;
  log(`dumping ${new URL(url).pathname.slice(1)} (pg_dump, one snapshot)`);
  await pgTool(config, 'pg_dump', url, (bare) => [
    '--format=custom',
    '--no-owner',
    `--file=${path.join(out, 'database.dump')}`,
    bare,
  ]);
  log(`copying blobs from ${config.blobDir}`);
  await mkdir(path.join(out, 'blobs'));
  await cp(config.blobDir, path.join(out, 'blobs'), { recursive: true }).catch((error) => {
    // A project that never stored an image has no blob folder.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
  const manifest: BackupManifest = {
    format: 'beanstalk-backup/1',
    createdAt: new Date().toISOString(),
    database: new URL(url).pathname.slice(1),
    migrations: await cluster.appliedMigrations(url),
    blobs: await tally(path.join(out, 'blobs')),
  };
  await writeFile(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`backup written: ${manifest.blobs.files} blobs, ${manifest.migrations.length} migrations`);
  return manifest;
}

/**
 * Restores a backup into the configured database, which must be empty (a fresh data folder:
 * `npm run services -- up` created it, nothing was migrated into it), and blob store.
 */
export async function restore(
  config: Config,
  from: string,
  log: (line: string) => void,
): Promise<BackupManifest> {
  const manifest = JSON.parse(
    await readFile(path.join(from, 'manifest.json'), 'utf8'),
  ) as BackupManifest;
  if (manifest.format !== 'beanstalk-backup/1') {
    throw new Error(`${from} is not a backup made by this tool (format ${manifest.format})`);
  }
  const url = config.postgres.databaseUrl;
  const tables = await cluster.tableCount(url);
  if (tables > 0) {
    throw new Error(
      `restore needs an empty database; ${new URL(url).pathname.slice(1)} has ${tables} tables`,
    );
  }
  log(`restoring the database from ${manifest.createdAt}`);
  // Everything but the pgvector extension itself: creating (or commenting on) an extension
  // takes a superuser, and the database already has it (`services up` puts it in every new
  // database).
  const dump = path.join(from, 'database.dump');
  const { stdout: contents } = await pgTool(config, 'pg_restore', url, () => ['--list', dump]);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-restore-'));
  const list = path.join(scratch, 'list');
  await writeFile(
    list,
    contents
      .split('\n')
      .filter((line) => !/^\d+;.* (EXTENSION|COMMENT - EXTENSION) /.test(line))
      .join('\n'),
  );
  try {
    await pgTool(config, 'pg_restore', url, (bare) => [
      '--no-owner',
      '--exit-on-error',
      `--use-list=${list}`,
      `--dbname=${bare}`,
      dump,
    ]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  log(`restoring blobs into ${config.blobDir}`);
  await mkdir(config.blobDir, { recursive: true });
  await cp(path.join(from, 'blobs'), config.blobDir, { recursive: true, force: false });
  const restored = await cluster.appliedMigrations(url);
  if (restored.join() !== manifest.migrations.join()) {
    throw new Error('the restored database does not list the migrations the backup recorded');
  }
  log(`restored: ${manifest.blobs.files} blobs, ${restored.length} migrations`);
  return manifest;
}
