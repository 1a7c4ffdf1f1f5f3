// Label issues as the round's check stores them and reviewers close them: what reopens, what
// clears, and that a review never overwrites a label someone else changed meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';

describe('label issues', () => {
  let db: TestDatabase;
  let projectId: string;
  let classes: string[];
  const items: string[] = [];
  const labels: string[] = [];
  const allowed = () => undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    projectId = (await db.prisma.project.create({ data: { slug: 'q', name: 'q' } })).id;
    await db.prisma.budgetEvent.create({ data: { projectId, amount: 10, reason: 'test' } });
    classes = [];
    for (const [i, name] of ['ok', 'scratch'].entries()) {
      classes.push(
        (await db.prisma.labelClass.create({ data: { projectId, name, position: i } })).id,
      );
    }
    for (let i = 0; i < 4; i++) {
      const item = await db.prisma.item.create({
        data: {
          projectId,
          contentHash: `h${i}`,
          blobKey: `h${i}`,
          mimeType: 'image/png',
          width: 1,
          height: 1,
          channels: 1,
        },
      });
      items.push(item.id);
      labels.push(
        await db.db.labels.append({
          projectId,
          itemId: item.id,
          labelClassId: classes[0]!,
          source: 'IMPORT',
          supersedesId: null,
        }),
      );
    }
  });
  afterAll(() => db.drop());

  const found = (i: number, score = 0.5) => ({
    labelId: labels[i]!,
    itemId: items[i]!,
    suggestedClassId: classes[1]!,
    score,
    selfConfidence: 0.2,
  });

  it('opens, re-scores, clears and reopens issues by what each check finds', async () => {
    const checked = labels.slice();
    expect(
      await db.db.labelIssues.record({
        projectId,
        roundId: null,
        found: [found(0, 0.9), found(1, 0.4), found(2, 0.6)],
        checkedLabelIds: checked,
      }),
    ).toEqual({ opened: 3, cleared: 0, open: 3, flagged: 0 });
    const first = await db.db.labelIssues.list({ projectId, status: 'OPEN', first: 2, offset: 0 });
    expect(first.total).toBe(3);
    expect(first.issues.map((i) => i.labelId)).toEqual([labels[0], labels[2]]);
    // The next check flags 0 again (re-scored, not new), no longer 1 and 2; 2 was not checked.
    expect(
      await db.db.labelIssues.record({
        projectId,
        roundId: null,
        found: [found(0, 0.3)],
        checkedLabelIds: [labels[0]!, labels[1]!],
      }),
    ).toEqual({ opened: 0, cleared: 1, open: 2, flagged: 0 });
    const issue0 = (await db.prisma.labelIssue.findUniqueOrThrow({
      where: { labelId: labels[0] },
    }))!;
    expect(issue0.score).toBeCloseTo(0.3);
    // Flagged again later, the cleared one reopens.
    expect(
      await db.db.labelIssues.record({
        projectId,
        roundId: null,
        found: [found(0, 0.3), found(1)],
        checkedLabelIds: checked,
      }),
    ).toMatchObject({ opened: 1, open: 2 });
    expect(await db.db.labelIssues.counts(projectId)).toEqual({
      OPEN: 2,
      KEPT: 0,
      RELABELED: 0,
      CLEARED: 1,
      SENT: 0,
    });
  });

  it('keep closes an issue for good; relabel supersedes the doubted label, once', async () => {
    const issue = (labelId: string) =>
      db.prisma.labelIssue.findUniqueOrThrow({ where: { labelId } });
    const kept = await db.db.labelIssues.review({
      issueId: (await issue(labels[0]!)).id,
      decision: 'KEEP',
      reviewerId: null,
      authorize: allowed,
    });
    expect(kept.issue.status).toBe('KEPT');
    expect(kept.label).toBeNull();
    // A kept label is not flagged again.
    await db.db.labelIssues.record({
      projectId,
      roundId: null,
      found: [found(0), found(1)],
      checkedLabelIds: labels,
    });
    expect((await issue(labels[0]!)).status).toBe('KEPT');

    const id1 = (await issue(labels[1]!)).id;
    await expect(
      db.db.labelIssues.review({
        issueId: id1,
        decision: 'RELABEL',
        labelClassId: classes[1],
        reviewerId: null,
        authorize: allowed,
      }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(
      db.db.labelIssues.review({
        issueId: id1,
        decision: 'RELABEL',
        labelClassId: classes[1],
        reason: 'x',
        reviewerId: null,
        authorize: () => {
          throw new Error('not yours');
        },
      }),
    ).rejects.toThrow('not yours');
    const relabeled = await db.db.labelIssues.review({
      issueId: id1,
      decision: 'RELABEL',
      labelClassId: classes[1],
      reason: 'a scratch on the left edge',
      reviewerId: null,
      authorize: allowed,
    });
    expect(relabeled.issue).toMatchObject({
      status: 'RELABELED',
      reviewLabelId: relabeled.label!.id,
    });
    expect(relabeled.label).toMatchObject({
      source: 'HUMAN',
      labelClassId: classes[1],
      supersedesId: labels[1],
    });
    expect((await db.db.budget.of(projectId)).spent).toBe(1);
    // A second reviewer is refused, not stacked on top.
    await expect(
      db.db.labelIssues.review({
        issueId: id1,
        decision: 'KEEP',
        reviewerId: null,
        authorize: allowed,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses to review a label someone replaced meanwhile, and the next check clears it', async () => {
    await db.db.labelIssues.record({
      projectId,
      roundId: null,
      found: [found(3)],
      checkedLabelIds: [labels[3]!],
    });
    const { id } = await db.prisma.labelIssue.findUniqueOrThrow({ where: { labelId: labels[3] } });
    await db.db.labels.relabel({
      projectId,
      itemId: items[3]!,
      labelClassId: classes[1]!,
      annotatorId: null,
      reason: 'seen in the queue',
    });
    await expect(
      db.db.labelIssues.review({
        issueId: id,
        decision: 'KEEP',
        reviewerId: null,
        authorize: allowed,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    const result = await db.db.labelIssues.record({
      projectId,
      roundId: null,
      found: [],
      checkedLabelIds: [],
    });
    expect(result.cleared).toBe(1);
    expect((await db.db.labelIssues.byId(id))!.status).toBe('CLEARED');
  });

  it("a round's check says how many labels it flagged, the same when it runs again", async () => {
    const item = await db.prisma.item.create({
      data: {
        projectId,
        contentHash: 'h9',
        blobKey: 'h9',
        mimeType: 'image/png',
        width: 1,
        height: 1,
        channels: 1,
      },
    });
    const labelId = await db.db.labels.append({
      projectId,
      itemId: item.id,
      labelClassId: classes[0]!,
      source: 'IMPORT',
      supersedesId: null,
    });
    const [r1, r2] = await Promise.all(
      [101, 102].map((number) => db.prisma.round.create({ data: { projectId, number } })),
    );
    const check = (roundId: string | null) =>
      db.db.labelIssues.record({
        projectId,
        roundId,
        found: [{ ...found(0), labelId, itemId: item.id }],
        checkedLabelIds: [labelId],
      });
    expect(await check(r1!.id)).toMatchObject({ opened: 1, flagged: 1 });
    // A retried activity records the same findings: nothing new opens, the count holds.
    expect(await check(r1!.id)).toMatchObject({ opened: 0, flagged: 1 });
    // The next round finds it again: flagged by that round too.
    expect(await check(r2!.id)).toMatchObject({ opened: 0, flagged: 1 });
    expect(await check(null)).toMatchObject({ flagged: 0 });
  });
});
