// Second opinions by rule: with the project's setting on, a round first asks someone else about
// images two people labeled differently, and never the two of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';

describe('second opinions in label selection', () => {
  let db: TestDatabase;
  let projectId: string;
  const items: string[] = [];
  const people: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    projectId = (await db.prisma.project.create({ data: { slug: 'so', name: 'so' } })).id;
    await db.prisma.budgetEvent.create({ data: { projectId, amount: 100, reason: 'test' } });
    const [a, b] = await Promise.all(
      ['a', 'b'].map((name, position) =>
        db.prisma.labelClass.create({ data: { projectId, name, position } }),
      ),
    );
    for (let i = 0; i < 6; i++) {
      const item = await db.prisma.item.create({
        data: {
          projectId,
          contentHash: `so${i}`,
          blobKey: `so${i}`,
          mimeType: 'image/png',
          width: 1,
          height: 1,
          channels: 1,
        },
      });
      items.push(item.id);
    }
    for (const name of ['ann', 'bea']) {
      people.push(
        (await db.prisma.user.create({ data: { email: `${name}@example.com`, name } })).id,
      );
    }
    // Item 0: ann says a, bea says b (a disagreement). Item 1: both say a.
    for (const [item, who, cls] of [
      [0, 0, a],
      [0, 1, b],
      [1, 0, a],
      [1, 1, a],
    ] as const) {
      const itemId = items[item]!;
      const current = (await db.db.labels.current([itemId])).get(itemId);
      await db.db.labels.append({
        projectId,
        itemId,
        labelClassId: cls!.id,
        source: 'HUMAN',
        annotatorId: people[who]!,
        supersedesId: current?.id ?? null,
      });
    }
    expect(await db.db.labelIssues.recordDisagreements(projectId, null)).toBe(1);
  });
  afterAll(() => db.drop());

  const openRound = async (number: number) => {
    const round = await db.prisma.round.create({ data: { projectId, number } });
    const opened = await db.db.tasks.openForRound({
      roundId: round.id,
      headVersionId: null,
      count: 3,
    });
    const tasks = await db.prisma.labelTask.findMany({
      where: { roundId: round.id },
      orderBy: { priority: 'desc' },
    });
    return { opened, tasks };
  };

  it('without the setting, a round asks nothing about the disagreement', async () => {
    const { tasks } = await openRound(1);
    expect(tasks.map((t) => t.itemId)).not.toContain(items[0]);
    await db.prisma.labelTask.updateMany({ where: { projectId }, data: { status: 'EXPIRED' } });
  });

  it('with it, the round asks first about the disagreement, not of the two who disagree', async () => {
    await db.db.projects.update(projectId, { secondOpinions: true });
    const { opened, tasks } = await openRound(2);
    expect(opened.asked).toBe(3);
    expect(tasks).toHaveLength(3);
    expect(tasks[0]).toMatchObject({ itemId: items[0], priority: 2 });
    expect([...tasks[0]!.excludeAnnotatorIds].sort()).toEqual([...people].sort());
    const issue = await db.prisma.labelIssue.findFirstOrThrow({ where: { itemId: items[0] } });
    expect(issue.status).toBe('SENT');
    // Sent once: the next round does not ask again.
    await db.prisma.labelTask.updateMany({ where: { projectId }, data: { status: 'EXPIRED' } });
    const next = await openRound(3);
    expect(next.tasks.map((t) => t.itemId)).not.toContain(items[0]);
  });
});
