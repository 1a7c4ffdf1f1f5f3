import { existsSync, readFileSync } from 'node:fs';
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
  /** `production` turns off local defaults for connection settings and API introspection. */
  BEANSTALK_ENV: z.enum(['local', 'production']).default('local'),
  BEANSTALK_DATA_DIR: z.string().min(1).optional(),
  BEANSTALK_BLOB_DIR: z.string().min(1).optional(),
  BEANSTALK_PG_PORT: port.default(54329),
  BEANSTALK_PG_BIN: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
  DATABASE_URL: postgresUrl.optional(),
  BEANSTALK_TEMPORAL_PORT: port.default(7233),
  BEANSTALK_TEMPORAL_HTTP_PORT: port.default(7243),
  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  BEANSTALK_API_PORT: port.default(4000),
  BEANSTALK_WEB_PORT: port.default(3000),
  /** Address the web server listens on; loopback unless a proxy elsewhere needs it. */
  BEANSTALK_WEB_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Reverse proxies in front of the web app whose X-Forwarded-For it believes (same forms as
   * BEANSTALK_TRUSTED_PROXIES). None by default: browsers reach it directly, and a header a
   * browser sends is replaced by the connection's address.
   */
  BEANSTALK_WEB_TRUSTED_PROXIES: z.string().default(''),
  /** Largest accepted upload per file, in MiB. */
  BEANSTALK_API_MAX_UPLOAD_MB: z.coerce.number().positive('must be a positive number').default(10),
  /**
   * The one folder (and what is under it) platform administrators may import images from on
   * the API's host with `importFolder`; unset, server-side folder imports are off.
   */
  BEANSTALK_IMPORT_ROOT: z.string().min(1).optional(),
  /** Largest request body, in MiB (a multipart upload of several files in all). */
  BEANSTALK_API_MAX_REQUEST_MB: z.coerce
    .number()
    .positive('must be a positive number')
    .default(100),
  /** Most files in one upload request. */
  BEANSTALK_API_MAX_FILES: z.coerce
    .number()
    .int()
    .positive('must be a positive whole number')
    .default(500),
  /** Requests per second per API key (and per address for people), averaged over 10 s. */
  BEANSTALK_API_RATE_LIMIT: z.coerce
    .number()
    .int()
    .positive('must be a positive whole number')
    .default(200),
  BEANSTALK_SESSION_DAYS: z.coerce.number().positive('must be a positive number').default(7),
  /**
   * Proxies whose X-Forwarded-For the API believes for the client's address (proxy-addr
   * values: loopback, an address, a subnet, comma-separated).
   */
  BEANSTALK_TRUSTED_PROXIES: z.string().min(1).default('loopback'),
  /**
   * Web pages (origins, comma-separated) that may open subscription sockets to the API
   * directly. None by default: browsers reach subscriptions through the web app, which checks
   * its own origin; programs that send no Origin header are not affected.
   */
  BEANSTALK_API_ALLOWED_ORIGINS: z.string().default(''),
  /**
   * How often an orchestration worker closes rounds left behind by their workflows and starts
   * ingests for items stored while Temporal was away, in seconds (0: never).
   */
  BEANSTALK_MAINTENANCE_SECONDS: z.coerce.number().min(0, 'must be 0 or more').default(60),
  /**
   * Vector sets of retired heads kept per project for rollback (the newest by promotion); the
   * maintenance pass drops older ones (at a million items each set and its index take about a
   * gigabyte). The heads stay listed; a rollback skips heads without a set.
   */
  BEANSTALK_KEEP_RETIRED_SETS: z.coerce.number().int().min(0, 'must be 0 or more').default(2),
  /**
   * Whether webhooks may be sent to loopback, private and link-local addresses (a receiver on
   * this machine or the local network). Off by default: a webhook URL is chosen by a project
   * manager, and must not reach services that only trust their network.
   */
  BEANSTALK_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  /** How long one webhook attempt may take, connection to last byte read, in seconds. */
  BEANSTALK_WEBHOOK_TIMEOUT_SECONDS: z.coerce
    .number()
    .positive('must be a positive number')
    .default(10),
  /**
   * The Python that runs the training worker (apps/trainer); default: the virtual environment
   * scripts/setup.sh makes in the data folder.
   */
  BEANSTALK_TRAINER_PYTHON: z.string().min(1).optional(),
  /** CPU threads PyTorch trains with (0: every core). */
  BEANSTALK_TRAINER_THREADS: z.coerce.number().int().min(0, 'must be 0 or more').default(0),
  /** Where the web app's server reaches the GraphQL API. */
  BEANSTALK_API_URL: z
    .url({ message: 'must be a URL, e.g. http://127.0.0.1:4000/graphql' })
    .optional(),
});

export type Config = {
  environment: 'local' | 'production';
  /** Project-local folder for the Postgres cluster, Temporal's SQLite file, blobs, logs. */
  dataDir: string;
  blobDir: string;
  postgres: { port: number; databaseUrl: string; binDir: string };
  temporal: { port: number; httpPort: number; address: string; namespace: string };
  api: {
    port: number;
    url: string;
    maxUploadBytes: number;
    maxRequestBytes: number;
    maxFiles: number;
    rateLimitPerSecond: number;
    sessionDays: number;
    trustedProxies: string;
    /** Origins whose pages may open subscription sockets to the API directly. */
    allowedOrigins: string[];
    /** Absolute; null: importFolder is off. */
    importRoot: string | null;
  };
  web: { port: number; host: string; trustedProxies: string[] };
  worker: { maintenanceSeconds: number; keepRetiredSets: number };
  webhooks: { allowPrivateAddresses: boolean; timeoutMs: number };
  /** The Python training worker: its interpreter, checkpoint folder and CPU threads. */
  trainer: { python: string; workDir: string; threads: number };
};

/**
 * The project-local cluster's roles: the superuser `npm run services -- up` administers it
 * as, and the role the platform connects as (owner of its database, not a superuser).
 */
export const LOCAL_POSTGRES = {
  adminRole: 'beanstalk',
  appRole: 'beanstalk_app',
  database: 'beanstalk',
} as const;

/**
 * Where the local cluster's generated passwords are kept: `<data dir>/secrets`, readable by
 * their owner only (written by `npm run services -- up`).
 */
export function localPostgresSecrets(dataDir: string) {
  const dir = path.join(dataDir, 'secrets');
  return {
    dir,
    admin: path.join(dir, 'postgres-admin.password'),
    app: path.join(dir, 'postgres-app.password'),
  };
}

/** The local cluster's URL for `role`, with its password once one was generated. */
export function localPostgresUrl(
  dataDir: string,
  port: number,
  as: 'admin' | 'app',
  database: string = LOCAL_POSTGRES.database,
): string {
  const file = localPostgresSecrets(dataDir)[as];
  const password = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  const role = as === 'admin' ? LOCAL_POSTGRES.adminRole : LOCAL_POSTGRES.appRole;
  const credentials = password ? `${role}:${encodeURIComponent(password)}` : role;
  return `postgresql://${credentials}@127.0.0.1:${port}/${database}`;
}

/** A URL with its password (if any) replaced by ***, for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, '$1:***@');
}

/**
 * How a bad value is shown in an error: secrets never; anything before an "@" (the user and
 * password of a URL, however malformed the URL is) masked.
 */
function shown(name: string, value: unknown): string {
  if (/SECRET|PASSWORD|TOKEN|_KEY$/i.test(name)) return '(hidden)';
  const text = String(value);
  const at = text.lastIndexOf('@');
  if (at < 0) return JSON.stringify(text);
  const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(text)?.[0] ?? '';
  return JSON.stringify(`${scheme}***${text.slice(at)}`);
}

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
        return `${name}: ${issue.message} (got ${shown(name, defined[name])})`;
      }),
    );
  }
  const e = result.data;
  if (e.BEANSTALK_ENV === 'production') {
    const missing = (['DATABASE_URL', 'TEMPORAL_ADDRESS', 'BEANSTALK_API_URL'] as const).filter(
      (name) => !e[name],
    );
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map((name) => `${name}: required when BEANSTALK_ENV=production`),
      );
    }
  }
  const dataDir = path.resolve(repoRoot, e.BEANSTALK_DATA_DIR ?? '.data');
  return {
    environment: e.BEANSTALK_ENV,
    dataDir,
    blobDir: path.resolve(repoRoot, e.BEANSTALK_BLOB_DIR ?? path.join(dataDir, 'blobs')),
    postgres: {
      port: e.BEANSTALK_PG_PORT,
      binDir: e.BEANSTALK_PG_BIN,
      databaseUrl: e.DATABASE_URL ?? localPostgresUrl(dataDir, e.BEANSTALK_PG_PORT, 'app'),
    },
    temporal: {
      port: e.BEANSTALK_TEMPORAL_PORT,
      httpPort: e.BEANSTALK_TEMPORAL_HTTP_PORT,
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.BEANSTALK_TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
    },
    api: {
      port: e.BEANSTALK_API_PORT,
      url: e.BEANSTALK_API_URL ?? `http://127.0.0.1:${e.BEANSTALK_API_PORT}/graphql`,
      maxUploadBytes: Math.round(e.BEANSTALK_API_MAX_UPLOAD_MB * 1024 * 1024),
      maxRequestBytes: Math.round(e.BEANSTALK_API_MAX_REQUEST_MB * 1024 * 1024),
      maxFiles: e.BEANSTALK_API_MAX_FILES,
      rateLimitPerSecond: e.BEANSTALK_API_RATE_LIMIT,
      sessionDays: e.BEANSTALK_SESSION_DAYS,
      trustedProxies: e.BEANSTALK_TRUSTED_PROXIES,
      allowedOrigins: e.BEANSTALK_API_ALLOWED_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      importRoot: e.BEANSTALK_IMPORT_ROOT ? path.resolve(repoRoot, e.BEANSTALK_IMPORT_ROOT) : null,
    },
    web: {
      port: e.BEANSTALK_WEB_PORT,
      host: e.BEANSTALK_WEB_HOST,
      trustedProxies: e.BEANSTALK_WEB_TRUSTED_PROXIES.split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    },
    worker: {
      maintenanceSeconds: e.BEANSTALK_MAINTENANCE_SECONDS,
      keepRetiredSets: e.BEANSTALK_KEEP_RETIRED_SETS,
    },
    webhooks: {
      allowPrivateAddresses: e.BEANSTALK_WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: e.BEANSTALK_WEBHOOK_TIMEOUT_SECONDS * 1000,
    },
    trainer: {
      python: path.resolve(
        repoRoot,
        e.BEANSTALK_TRAINER_PYTHON ?? path.join(dataDir, 'trainer-venv', 'bin', 'python'),
      ),
      workDir: path.join(dataDir, 'training'),
      threads: e.BEANSTALK_TRAINER_THREADS,
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
