// Near-duplicate marks in the database: label selection leaves marked items alone when the
// project says so, and asks for them otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';

describe('near-duplicates in label selection', () => {
  let db: TestDatabase;
  let projectId: string;
  const items: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    projectId = (await db.prisma.project.create({ data: { slug: 'nd', name: 'nd' } })).id;
    await db.prisma.budgetEvent.create({ data: { projectId, amount: 100, reason: 'test' } });
    for (let i = 0; i < 6; i++) {
      const item = await db.prisma.item.create({
        data: {
          projectId,
          contentHash: `nd${i}`,
          blobKey: `nd${i}`,
          mimeType: 'image/png',
          width: 1,
          height: 1,
          channels: 1,
        },
      });
      items.push(item.id);
    }
    // Items 3, 4 and 5 copy 0, 1 and 2.
    await db.db.items.markNearDuplicates({
      projectId,
      marks: [0, 1, 2].map((i) => ({ itemId: items[i + 3]!, ofId: items[i]! })),
      checkedIds: items,
    });
  });
  afterAll(() => db.drop());

  const openRound = async (number: number) => {
    const round = await db.prisma.round.create({ data: { projectId, number } });
    await db.db.tasks.openForRound({ roundId: round.id, headVersionId: null, count: 6 });
    const tasks = await db.prisma.labelTask.findMany({ where: { roundId: round.id } });
    return tasks.map((t) => items.indexOf(t.itemId)).sort();
  };

  it('asks only for originals when near-duplicates are skipped', async () => {
    await db.db.projects.update(projectId, { skipNearDuplicates: true });
    expect(await openRound(1)).toEqual([0, 1, 2]);
  });

  it('asks for near-duplicates too when they are not', async () => {
    await db.db.projects.update(projectId, { skipNearDuplicates: false });
    // Round 1's tasks are still open, so only the copies are free.
    expect(await openRound(2)).toEqual([3, 4, 5]);
  });
});
