import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, parseConfig, type Config } from '@beanstalk/config';
import { migrate } from '@beanstalk/db';
import {
  postgresDown,
  postgresLocation,
  postgresUp,
  temporalDown,
  temporalUp,
} from '@beanstalk/local-services';
import { freePort } from './processes.ts';

export interface PrivateServices {
  config: Config;
  /** What a child process needs in its environment to use these services. */
  env: Record<string, string>;
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  /** Stops both and removes their data. */
  close(): Promise<void>;
}

/**
 * A Postgres cluster and a Temporal dev server of the caller's own, on free ports, from the
 * same binaries the project uses: for fault tests that stop and restart them without
 * disturbing the shared services other test files run against. Migrated (unless told not
 * to), with no data.
 */
export async function startPrivateServices(
  options: { migrate?: boolean } = {},
): Promise<PrivateServices> {
  const shared = loadConfig();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-services-'));
  // The Temporal CLI the shared services installed, not a second download.
  await symlink(path.join(shared.dataDir, 'tools'), path.join(dir, 'tools'));
  const [pg, temporal, http] = [await freePort(), await freePort(), await freePort()];
  const env: Record<string, string> = {
    BEANSTALK_DATA_DIR: dir,
    BEANSTALK_PG_PORT: String(pg),
    BEANSTALK_PG_BIN: shared.postgres.binDir,
    BEANSTALK_TEMPORAL_PORT: String(temporal),
    BEANSTALK_TEMPORAL_HTTP_PORT: String(http),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
  };
  const quiet = () => {};
  await postgresUp(parseConfig(env), quiet);
  // Read again: the database URL carries the password `up` generated for this data folder.
  const config = parseConfig(env);
  Object.assign(env, { DATABASE_URL: config.postgres.databaseUrl });
  await temporalUp(config, quiet);
  if (options.migrate !== false) await migrate(config.postgres.databaseUrl);
  return {
    config,
    env,
    stopPostgres: () => postgresDown(config, quiet),
    startPostgres: () => postgresUp(config, quiet),
    stopTemporal: () => temporalDown(config, quiet),
    startTemporal: () => temporalUp(config, quiet),
    async close() {
      await temporalDown(config, quiet).catch(() => undefined);
      await postgresDown(config, quiet).catch(() => undefined);
      const { base } = postgresLocation(config);
      if (base) await rm(base, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
