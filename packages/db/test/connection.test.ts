import { describe, expect, it } from 'vitest';
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
