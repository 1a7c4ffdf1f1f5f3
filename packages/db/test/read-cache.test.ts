import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, seedProject, type TestDatabase } from '@beanstalk/testing';
import { createDatabase, ReadCache, type Database } from '../src/index.ts';

/** Polls `check` until it holds (announcements arrive in milliseconds; 5 s is a failure). */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let test: TestDatabase;
/** Another process's connection: its changes reach the cache only as announcements. */
let other: Database;

beforeAll(async () => {
  test = await createTestDatabase();
  other = createDatabase(test.url);
});
afterAll(async () => {
  await other.close();
  await test.drop();
});

async function keyOf(projectId: string, hash: string) {
  return test.db.users.createApiKey({
    projectId,
    role: 'INTEGRATOR',
    name: hash,
    prefix: 'bsk_test',
    keyHash: hash,
    createdById: null,
  });
}

/** Database reads the cache made, by method. */
function countReads(db: Database) {
  return {
    key: vi.spyOn(db.users, 'apiKeyByHash'),
    slug: vi.spyOn(db.projects, 'bySlug'),
    version: vi.spyOn(db.labels, 'version'),
    classes: vi.spyOn(db.classes, 'ofProject'),
  };
}

describe('the read cache of the classify path', () => {
  it('answers from memory, and drops exactly what another connection changes', async () => {
    const a = await seedProject(test.db, { classes: 2, items: 2 });
    const b = await seedProject(test.db, { classes: 2, items: 2 });
    const [slugA, slugB] = (await test.db.projects.byIds([a.projectId, b.projectId])).map(
      (p) => p.slug,
    );
    const keyA = await keyOf(a.projectId, 'hash-a');
    const cache = new ReadCache(test.db);
    await cache.start();
    const reads = countReads(test.db);
    try {
      expect(cache.active).toBe(true);
      const all = async () => ({
        key: await cache.apiKeyByHash('hash-a'),
        projectA: await cache.projectBySlug(slugA!),
        projectB: await cache.projectBySlug(slugB!),
        version: await cache.labelVersion(a.projectId),
        classesA: await cache.classesOf(a.projectId),
        classesB: await cache.classesOf(b.projectId),
      });
      const first = await all();
      expect(first.key!.id).toBe(keyA.id);
      expect(await all()).toEqual(first);
      expect(reads.key).toHaveBeenCalledTimes(1);
      expect(reads.slug).toHaveBeenCalledTimes(2);
      expect(reads.version).toHaveBeenCalledTimes(1);
      expect(reads.classes).toHaveBeenCalledTimes(2);
      // Unknown keys and slugs are not kept: every guess is a read.
      expect(await cache.apiKeyByHash('no-such-hash')).toBeNull();
      expect(await cache.apiKeyByHash('no-such-hash')).toBeNull();
      expect(await cache.projectBySlug('no-such-slug')).toBeNull();
      expect(reads.key).toHaveBeenCalledTimes(3);

      // A key revoked by another process stops being answered as valid.
      await other.users.revokeApiKey(keyA.id);
      await until(async () => (await cache.apiKeyByHash('hash-a'))!.revokedAt !== null, 'revoke');
      // A project setting (a promoted head, k), a label, a renamed class: each seen.
      await other.projects.update(a.projectId, { k: 17 });
      await until(async () => (await cache.projectBySlug(slugA!))!.k === 17, 'setting');
      const version = await cache.labelVersion(a.projectId);
      await other.labels.append({
        projectId: a.projectId,
        itemId: a.itemIds[0]!,
        labelClassId: a.classIds[0]!,
        source: 'HUMAN',
        supersedesId: null,
      });
      await until(async () => (await cache.labelVersion(a.projectId)) === version + 1, 'label');
      await other.classes.update(a.classIds[1]!, { name: 'renamed' });
      await until(
        async () => (await cache.classesOf(a.projectId))[1]!.name === 'renamed',
        'class rename',
      );
      // Project b changed nothing: its entries were never dropped, never read again.
      expect(await cache.projectBySlug(slugB!)).toEqual(first.projectB);
      expect(await cache.classesOf(b.projectId)).toEqual(first.classesB);
      const readsOfB = [
        reads.slug.mock.calls.filter(([s]) => s === slugB).length,
        reads.classes.mock.calls.filter(([p]) => p === b.projectId).length,
      ];
      expect(readsOfB).toEqual([1, 1]);
    } finally {
      vi.restoreAllMocks();
      await cache.close();
    }
  });

  it('keeps no answer read before a change it heard meanwhile', async () => {
    const project = await seedProject(test.db, { items: 1 });
    const key = await keyOf(project.projectId, 'hash-race');
    const cache = new ReadCache(test.db);
    await cache.start();
    const reads = vi.spyOn(test.db.users, 'apiKeyByHash');
    try {
      // The row is read, then (before its answer is kept) the key's change is heard.
      reads.mockImplementationOnce(async (hash) => {
        const row = await other.users.apiKeyByHash(hash);
        cache.forgetApiKey(key.id);
        return row;
      });
      expect((await cache.apiKeyByHash('hash-race'))!.id).toBe(key.id);
      await cache.apiKeyByHash('hash-race');
      expect(reads).toHaveBeenCalledTimes(2);
      // Kept now; forgetting the key drops it at once (what the API does after revoking).
      await cache.apiKeyByHash('hash-race');
      expect(reads).toHaveBeenCalledTimes(2);
      cache.forgetApiKey(key.id);
      await cache.apiKeyByHash('hash-race');
      expect(reads).toHaveBeenCalledTimes(3);
    } finally {
      vi.restoreAllMocks();
      await cache.close();
    }
  });

  it('reads the database while its connection is broken, and trusts nothing from before', async () => {
    const project = await seedProject(test.db, { items: 1 });
    const { slug } = (await test.db.projects.byId(project.projectId))!;
    const cache = new ReadCache(test.db);
    await cache.start();
    const killer = new pg.Client({ connectionString: test.url });
    await killer.connect();
    try {
      expect((await cache.projectBySlug(slug))!.k).not.toBe(23);
      // The server ends the cache's listening connection (as a restart does).
      const { rowCount } = await killer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN beanstalk_cached_reads%'`,
      );
      expect(rowCount).toBe(1);
      await until(() => !cache.active, 'the break to be noticed');
      // A change while nobody listens (it tries again after 250 ms) is announced to no one:
      // the cache reads the database meanwhile, and drops what it held once back.
      await other.projects.update(project.projectId, { k: 23 });
      expect((await cache.projectBySlug(slug))!.k).toBe(23);
      await until(() => cache.active, 'listening again');
      expect((await cache.projectBySlug(slug))!.k).toBe(23);
      // And it hears changes again.
      await other.projects.update(project.projectId, { k: 29 });
      await until(async () => (await cache.projectBySlug(slug))!.k === 29, 'a change after it');
    } finally {
      await killer.end();
      await cache.close();
    }
  });
});
