import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type { PrismaClient };

/** Limits every connection of a process carries, so no request or step can hang forever. */
export interface ConnectionLimits {
  /** Longest a single statement may run (the server cancels it). Default 60 s. */
  statementTimeoutMs?: number;
  /** Longest a transaction may sit idle holding locks. Default 60 s. */
  idleInTransactionTimeoutMs?: number;
  /** Longest to wait for a connection (the server down or unreachable). Default 5 s. */
  connectTimeoutMs?: number;
  /** Connections in the pool. Default 10. */
  max?: number;
}

function poolConfig(databaseUrl: string, limits: ConnectionLimits): pg.PoolConfig {
  return {
    connectionString: databaseUrl,
    max: limits.max ?? 10,
    statement_timeout: limits.statementTimeoutMs ?? 60_000,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs ?? 60_000,
    connectionTimeoutMillis: limits.connectTimeoutMs ?? 5_000,
  };
}

/**
 * The pg pool every repository queries through. An idle connection that the server closes
 * (a restart, a terminated backend) emits `error` on the pool; without a listener that
 * would end the process, so it is logged and the pool opens a new connection next time.
 */
export function createPool(databaseUrl: string, limits: ConnectionLimits = {}): pg.Pool {
  const pool = new pg.Pool(poolConfig(databaseUrl, limits));
  pool.on('error', (error) => {
    console.error(`postgres: an idle connection failed (${error.message}); it will be replaced`);
  });
  return pool;
}

/** The one way to build a Prisma client: through the pg driver adapter, with the same limits. */
export function createPrisma(databaseUrl: string, limits: ConnectionLimits = {}): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg(poolConfig(databaseUrl, limits)) });
}

const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: the server is stopping or restarting
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up
  '08000',
  '08001',
  '08003',
  '08004',
  '08006', // connection failures
]);
const UNAVAILABLE_NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);

/**
 * Whether an error says the database could not be reached or went away mid-request (as
 * opposed to a bad query): worth retrying later, and not the caller's fault.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let depth = 0; pending.length && depth < 10; depth++) {
    const e = pending.shift() as Record<string, unknown> | null | undefined;
    if (!e || typeof e !== 'object') continue;
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NETWORK.has(code))) return true;
    // Prisma: the server cannot be reached, timed out, closed the connection, pool exhausted.
    if (code && ['P1001', 'P1002', 'P1008', 'P1017', 'P2024'].includes(code)) return true;
    // Prisma's pg adapter: the kind of driver failure.
    if (typeof e.kind === 'string' && UNAVAILABLE_KINDS.has(e.kind)) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (UNAVAILABLE_MESSAGE.test(message)) return true;
    pending.push(e.cause, (e.meta as Record<string, unknown> | undefined)?.driverAdapterError);
  }
  return false;
}

const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection due to administrator command|Server has closed the connection|the database system is (starting up|shutting down)|Can't reach database server/i;
