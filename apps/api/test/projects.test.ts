import assert from 'node:assert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@beanstalk/config';
import { createTestDatabase, seedProject, type TestDatabase } from '@beanstalk/testing';
import type { Context } from '../src/context.ts';
import { createApolloServer } from '../src/server.ts';

describe('projects query', () => {
  let db: TestDatabase;
  let context: Context;
  const server = createApolloServer({ production: false });
  beforeAll(async () => {
    db = await createTestDatabase();
    context = { config: loadConfig(), prisma: db.prisma, pool: db.pool };
  });
  afterAll(() => db.drop());

  it('lists projects with their classes and item counts per split', async () => {
    const { projectId } = await seedProject(db.prisma, { slug: 'beans', classes: 2, items: 10 });
    await db.prisma.labelClass.update({
      where: { projectId_position: { projectId, position: 1 } },
      data: { retiredAt: new Date(), isNormal: false },
    });
    const response = await server.executeOperation(
      {
        query: `query { health { ok database }
          projects { slug classes { name position isNormal retired } itemCounts { total pool eval gold } } }`,
      },
      { contextValue: context },
    );
    assert(response.body.kind === 'single');
    expect(response.body.singleResult.errors).toBeUndefined();
    expect(response.body.singleResult.data).toEqual({
      health: { ok: true, database: 'postgres, pgvector 0.8.0' },
      projects: [
        {
          slug: 'beans',
          classes: [
            { name: 'class-0', position: 0, isNormal: true, retired: false },
            { name: 'class-1', position: 1, isNormal: false, retired: true },
          ],
          itemCounts: { total: 10, pool: 8, eval: 2, gold: 0 },
        },
      ],
    });
  });

  it('answers null for an unknown project and an error for a malformed query', async () => {
    const missing = await server.executeOperation(
      {
        query: 'query ($slug: String!) { project(slug: $slug) { id } }',
        variables: { slug: 'nope' },
      },
      { contextValue: context },
    );
    assert(missing.body.kind === 'single');
    expect(missing.body.singleResult.data).toEqual({ project: null });
    const malformed = await server.executeOperation(
      { query: '{ projects { nope } }' },
      { contextValue: context },
    );
    assert(malformed.body.kind === 'single');
    expect(malformed.body.singleResult.errors?.[0]?.message).toMatch(
      /Cannot query field "nope" on type "Project"/,
    );
  });
});
