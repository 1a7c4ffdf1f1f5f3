import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '@beanstalk/testing';
import { createDatabase, isDatabaseUnavailable } from '../src/index.ts';

describe('telling an unreachable database from a bad query', () => {
  it('knows the shapes pg and Prisma give an outage, and not a query error', async () => {
    // Nothing listens on this port: a real refusal, through both clients.
    const db = createDatabase('postgresql://beanstalk@127.0.0.1:9/beanstalk', {
      connectTimeoutMs: 2000,
    });
    try {
      const viaPg = await db.projects.bySlug('x').catch((e: unknown) => e);
      const viaPrisma = await db.projects.list().catch((e: unknown) => e);
      expect(isDatabaseUnavailable(viaPg)).toBe(true);
      expect(isDatabaseUnavailable(viaPrisma)).toBe(true);
    } finally {
      await db.close();
    }
    // Shapes seen during a restart: a server shutdown, and Prisma's adapter wrapping a closed
    // connection.
    expect(isDatabaseUnavailable({ code: '57P01', message: 'terminating connection' })).toBe(true);
    expect(
      isDatabaseUnavailable({
        code: 'P2010',
        message: 'raw query failed',
        meta: { driverAdapterError: { cause: { kind: 'ConnectionClosed' } } },
      }),
    ).toBe(true);
    // A query's own fault is not an outage.
    expect(isDatabaseUnavailable({ code: '23505', message: 'duplicate key' })).toBe(false);
    expect(isDatabaseUnavailable(new Error('column "x" does not exist'))).toBe(false);
  });
});

describe('a connection the server ends while it is checked out', () => {
  it('fails its transaction as unavailable, and nothing throws out of the process', async () => {
    const test = await createTestDatabase();
    const killer = new pg.Client({ connectionString: test.url });
    await killer.connect();
    try {
      const outcome = await test.db
        .inTransaction(async (tx) => {
          await tx.projects.list();
          await tx.budget.of('00000000-0000-0000-0000-000000000000');
          // Between two queries, the server ends every other session of this database (as a
          // restart does); with no query in flight, the connection can only say so as an event.
          await killer.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()`,
          );
          await sleep(300);
          return tx.budget.of('00000000-0000-0000-0000-000000000000');
        })
        .catch((error: unknown) => error);
      expect(isDatabaseUnavailable(outcome)).toBe(true);
      // The pool hands out a working connection next.
      expect(await test.db.budget.of('00000000-0000-0000-0000-000000000000')).toMatchObject({
        total: 0,
      });
    } finally {
      await killer.end();
      await test.drop();
    }
  });
});
