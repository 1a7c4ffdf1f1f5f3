import { createHash, randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Config } from '@beanstalk/config';
import {
  LOCAL_POSTGRES,
  localPostgresSecrets,
  localPostgresUrl,
  redactUrl,
  repoRoot,
} from '@beanstalk/config';
import { cluster } from '@beanstalk/db';
import { isRoot, run, runOrThrow } from './run.ts';

/** The `postgres` system user's uid and gid (Postgres runs as it when we are root). */
function postgresUser(): { uid: number; gid: number } {
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!passwd)
    throw new Error('running as root but there is no `postgres` user to run Postgres as');
  const [, , uid, gid] = passwd.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Whether the `postgres` user can reach `dir`: every existing folder above it must let it
 * through (a root home or a `mktemp -d` folder is 0700 and does not).
 */
function postgresCanReach(dir: string): boolean {
  const { uid, gid } = postgresUser();
  for (let at = path.dirname(dir); ; at = path.dirname(at)) {
    if (existsSync(at)) {
      const { mode, uid: owner, gid: group } = statSync(at);
      const bit = owner === uid ? 0o100 : group === gid ? 0o010 : 0o001;
      if (!(mode & bit)) return false;
    }
    if (at === path.dirname(at)) return true;
  }
}

/**
 * Where the cluster and its log live: `<data dir>/postgres`, or, run as root from a folder the
 * `postgres` user cannot enter, a folder of its own under /var/lib/postgresql (named after the
 * data dir, so every command finds the same one).
 */
export function postgresLocation(config: Config) {
  const local = path.join(config.dataDir, 'postgres');
  if (!isRoot() || postgresCanReach(local)) {
    return { dir: local, log: path.join(config.dataDir, 'logs', 'postgres.log'), base: null };
  }
  const home = existsSync('/var/lib/postgresql') ? '/var/lib/postgresql' : '/var/tmp';
  const id = createHash('sha256').update(config.dataDir).digest('hex').slice(0, 12);
  const base = path.join(home, `beanstalk-${id}`);
  return { dir: path.join(base, 'data'), log: path.join(base, 'postgres.log'), base };
}

/** Postgres refuses to run as root; as root we act as the `postgres` system user instead. */
function pgCommand(config: Config, tool: string, args: string[]) {
  const bin = path.join(config.postgres.binDir, tool);
  return isRoot()
    ? runOrThrow('runuser', ['-u', 'postgres', '--', bin, ...args])
    : runOrThrow(bin, args);
}

function ownForPostgres(target: string) {
  if (!isRoot()) return;
  const { uid, gid } = postgresUser();
  chownSync(target, uid, gid);
}

async function isRunning(config: Config): Promise<boolean> {
  const { dir } = postgresLocation(config);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) return false;
  const bin = path.join(config.postgres.binDir, 'pg_ctl');
  const result = isRoot()
    ? await run('runuser', ['-u', 'postgres', '--', bin, 'status', '-D', dir])
    : await run(bin, ['status', '-D', dir]);
  return result.code === 0;
}

/**
 * The cluster's passwords (the superuser's and the platform role's), generated once per data
 * folder into files only their owner can read.
 */
function ensurePasswords(config: Config): { admin: string; app: string } {
  const files = localPostgresSecrets(config.dataDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const read = (file: string) => {
    if (!existsSync(file)) {
      writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    }
    return readFileSync(file, 'utf8').trim();
  };
  return { admin: read(files.admin), app: read(files.app) };
}

/** initdb with the superuser's password from a file the `postgres` user can read, then gone. */
async function initCluster(config: Config, dir: string, adminPassword: string) {
  // Next to the cluster: a folder the `postgres` user can reach (run as root, it runs initdb).
  const tmp = mkdtempSync(path.join(path.dirname(dir), '.initdb-'));
  const pwfile = path.join(tmp, 'password');
  try {
    writeFileSync(pwfile, `${adminPassword}\n`, { mode: 0o600 });
    ownForPostgres(tmp);
    ownForPostgres(pwfile);
    await pgCommand(config, 'initdb', [
      '-D',
      dir,
      '-U',
      LOCAL_POSTGRES.adminRole,
      `--pwfile=${pwfile}`,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Who may connect: password (SCRAM) logins over loopback TCP only. Returns whether the file
 * changed (a cluster made before passwords trusted every local connection).
 */
function writeAccessRules(dir: string): boolean {
  const file = path.join(dir, 'pg_hba.conf');
  const rules = [
    '# Written by `npm run services -- up`; edits are overwritten.',
    '# TYPE  DATABASE  USER  ADDRESS       METHOD',
    'host    all       all   127.0.0.1/32  scram-sha-256',
    'host    all       all   ::1/128       scram-sha-256',
    '',
  ].join('\n');
  if (existsSync(file) && readFileSync(file, 'utf8') === rules) return false;
  writeFileSync(file, rules);
  ownForPostgres(file);
  return true;
}

function writeSettings(config: Config, dir: string) {
  // Rewritten on every start so port changes in .env take effect.
  const settings = [
    `port = ${config.postgres.port}`,
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    'max_connections = 200',
    "shared_buffers = '256MB'",
    "maintenance_work_mem = '512MB'",
    "max_wal_size = '4GB'",
    'max_parallel_maintenance_workers = 2',
  ].join('\n');
  const file = path.join(dir, 'beanstalk.conf');
  writeFileSync(
    file,
    `# Written by \`npm run services -- up\`; edits are overwritten.\n${settings}\n`,
  );
  ownForPostgres(file);
}

export async function postgresUp(config: Config, log: (line: string) => void): Promise<void> {
  const { dir, log: logFile, base } = postgresLocation(config);
  if (!existsSync(path.join(config.postgres.binDir, 'initdb'))) {
    throw new Error(
      `No Postgres server binaries in ${config.postgres.binDir}. Install them ` +
        '(root: bash scripts/install-system-deps.sh) or set BEANSTALK_PG_BIN.',
    );
  }
  if (base) {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    ownForPostgres(base);
    // So people looking in the data folder find it.
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(
      path.join(config.dataDir, 'postgres-location.txt'),
      `The postgres user cannot enter ${config.dataDir}, so the cluster lives in ${dir} (log: ${logFile}).\n`,
    );
  }
  mkdirSync(path.dirname(logFile), { recursive: true });
  const passwords = ensurePasswords(config);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log(`initialising a Postgres cluster in ${dir}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ownForPostgres(dir);
    await initCluster(config, dir, passwords.admin);
    const conf = path.join(dir, 'postgresql.conf');
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}\ninclude_if_exists = 'beanstalk.conf'\n`);
    writeAccessRules(dir);
  }
  writeSettings(config, dir);
  if (!(await isRunning(config))) {
    if (!existsSync(logFile)) writeFileSync(logFile, '');
    ownForPostgres(logFile);
    log(`starting Postgres on port ${config.postgres.port}`);
    await pgCommand(config, 'pg_ctl', ['start', '-D', dir, '-l', logFile, '-w', '-t', '60']);
  }
  // The platform's own role (no superuser rights) owns its database; the superuser is only
  // for this command. A cluster from before this split gets both here.
  const admin = localPostgresUrl(config.dataDir, config.postgres.port, 'admin', 'postgres');
  await cluster.ensureRoles(admin, LOCAL_POSTGRES.appRole, passwords.app, passwords.admin);
  if (writeAccessRules(dir)) {
    log('Postgres now asks every connection for a password');
    await cluster.reloadConfig(admin);
  }
  if (await cluster.ensureDatabase(admin, LOCAL_POSTGRES.database, LOCAL_POSTGRES.appRole)) {
    log(`created database ${LOCAL_POSTGRES.database}`);
  }
  if (!(await cluster.vectorAvailable(admin))) {
    if (!isRoot()) {
      throw new Error(
        'The pgvector extension is not installed for this Postgres. As root run:\n' +
          `  bash ${path.relative(process.cwd(), path.join(repoRoot, 'scripts/install-system-deps.sh'))}`,
      );
    }
    log('pgvector is missing: building it (scripts/install-system-deps.sh)');
    await runOrThrow('bash', [path.join(repoRoot, 'scripts/install-system-deps.sh')]);
  }
  // Creating the extension takes a superuser: in the platform's database, and in template1 so
  // every database made later (the tests make their own) has it.
  for (const database of [LOCAL_POSTGRES.database, 'template1']) {
    await cluster.enableVector(cluster.databaseUrlFor(admin, database));
  }
}

export async function postgresDown(config: Config, log: (line: string) => void): Promise<void> {
  if (!(await isRunning(config))) return;
  log('stopping Postgres');
  await pgCommand(config, 'pg_ctl', [
    'stop',
    '-D',
    postgresLocation(config).dir,
    '-m',
    'fast',
    '-w',
  ]);
}

export async function postgresStatus(config: Config): Promise<string> {
  if (!(await isRunning(config))) return 'stopped';
  try {
    const { server, vector } = await cluster.serverVersions(config.postgres.databaseUrl);
    return `running (Postgres ${server}, pgvector ${vector ?? 'not enabled'})`;
  } catch (error) {
    return `running, but ${redactUrl(config.postgres.databaseUrl)} does not answer: ${(error as Error).message}`;
  }
}
