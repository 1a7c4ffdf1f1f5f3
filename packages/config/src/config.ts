import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { repoRoot } from './paths.ts';

const port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\/[^/]+\/[^/?]+/.test(v), {
  message: 'must look like postgresql://user@host:port/database',
});

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233');

/** Raw environment, all optional: local defaults are derived after parsing. */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  BEANSTALK_DATA_DIR: z.string().min(1).optional(),
  BEANSTALK_BLOB_DIR: z.string().min(1).optional(),
  BEANSTALK_PG_PORT: port.default(54329),
  BEANSTALK_PG_BIN: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
  DATABASE_URL: postgresUrl.optional(),
  BEANSTALK_TEMPORAL_PORT: port.default(7233),
  BEANSTALK_TEMPORAL_HTTP_PORT: port.default(7243),
  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
});

export type Config = {
  nodeEnv: 'development' | 'test' | 'production';
  /** Project-local folder for the Postgres cluster, Temporal's SQLite file, blobs, logs. */
  dataDir: string;
  blobDir: string;
  postgres: { port: number; databaseUrl: string; binDir: string };
  temporal: { port: number; httpPort: number; address: string; namespace: string };
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates an environment object; throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = envSchema.safeParse(defined);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}: ${issue.message} (got ${JSON.stringify(defined[name])})`;
      }),
    );
  }
  const e = result.data;
  if (e.NODE_ENV === 'production' && !e.DATABASE_URL) {
    throw new ConfigError(['DATABASE_URL: required when NODE_ENV=production']);
  }
  const dataDir = path.resolve(repoRoot, e.BEANSTALK_DATA_DIR ?? '.data');
  return {
    nodeEnv: e.NODE_ENV,
    dataDir,
    blobDir: path.resolve(repoRoot, e.BEANSTALK_BLOB_DIR ?? path.join(dataDir, 'blobs')),
    postgres: {
      port: e.BEANSTALK_PG_PORT,
      binDir: e.BEANSTALK_PG_BIN,
      databaseUrl:
        e.DATABASE_URL ?? `postgresql://beanstalk@127.0.0.1:${e.BEANSTALK_PG_PORT}/beanstalk`,
    },
    temporal: {
      port: e.BEANSTALK_TEMPORAL_PORT,
      httpPort: e.BEANSTALK_TEMPORAL_HTTP_PORT,
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.BEANSTALK_TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
    },
  };
}

let cached: Config | undefined;

/**
 * The process's configuration: the repo's `.env` (if any) under the real environment, parsed
 * once. Entry points call this at start-up so a bad value stops them with a readable message.
 */
export function loadConfig(): Config {
  if (!cached) {
    const envFile = path.join(repoRoot, '.env');
    if (existsSync(envFile)) process.loadEnvFile(envFile);
    cached = parseConfig(process.env);
  }
  return cached;
}
