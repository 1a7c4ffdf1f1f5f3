import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api } from './harness.ts';

const CLAIM = `mutation ($slug: String!) { claimNextTask(project: $slug) { id item { id } } }`;
const SUBMIT = `mutation ($task: ID!, $cls: ID!, $also: [ID!]) {
  submitLabel(taskId: $task, labelClassId: $cls, alsoItemIds: $also) {
    duplicate label { id source } task { status }
    also { itemId source roundNumber annotator { email } labelClass { id } }
    alsoSkipped { itemId reason } } }`;
const BUDGET = `query ($slug: String!) { budget(project: $slug) { total spent reserved remaining } }`;

/** One label submission: the task's label and extra items' labels in one transaction. */
describe('submitting a label with extra items', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  const people: { cookie: string; email: string }[] = [];
  let manager: { cookie: string };
  /** Unlabeled pool items without a task, handed out as extra items. */
  let spare: string[];
  let taskItems: Set<string>;
  const slug = 'fm-submission';
  // 20 tasks reserve 20 of 32: 12 labels are left for extra items.
  const TOTAL = 32;

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 300, labeled: 40, slug, budget: TOTAL });
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      const email = `${name}@example.com`;
      const user = await api.user(email, { projectId: seeded.projectId, role: 'ANNOTATOR' });
      people.push({ cookie: user.cookie, email });
    }
    manager = await api.user('manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    const round = await api.db.prisma.round.create({
      data: { projectId: seeded.projectId, number: 1, status: 'LABELING', budgetAsked: 20 },
    });
    const unlabeled = seeded.items.filter((i) => i.split === 'POOL').slice(40);
    taskItems = new Set(unlabeled.slice(0, 20).map((i) => i.id));
    await api.db.prisma.labelTask.createMany({
      data: unlabeled.slice(0, 20).map((item, i) => ({
        projectId: seeded.projectId,
        roundId: round.id,
        itemId: item.id,
        priority: 100 - i,
      })),
    });
    spare = unlabeled.slice(20).map((i) => i.id);
  });
  afterAll(() => api?.stop());

  const classOf = (itemId: string) => seeded.items.find((i) => i.id === itemId)!.hiddenClassId!;
  const budget = async () => (await api.ok(manager, BUDGET, { slug })).budget;
  const take = (n: number) => spare.splice(0, n);

  it('labels the extra items in the task’s round and says which it left alone', async () => {
    const [alice] = people;
    const before = await budget();
    const claimed = (await api.ok(alice!, CLAIM, { slug })).claimNextTask;
    const extras = take(3);
    const alreadyLabeled = seeded.labeled[0]!.id;
    const askedElsewhere = [...taskItems].find((id) => id !== claimed.item.id)!;
    const answer = await api.ok(alice!, SUBMIT, {
      task: claimed.id,
      cls: classOf(claimed.item.id),
      also: [...extras, alreadyLabeled, askedElsewhere, '00000000-0000-0000-0000-000000000000'],
    });
    const submitted = answer.submitLabel;
    // What the queue shows comes back with the answer.
    expect(submitted.duplicate).toBe(false);
    expect(submitted.task.status).toBe('DONE');
    expect(submitted.label.source).toBe('HUMAN');
    expect(submitted.also.map((l: any) => l.itemId).sort()).toEqual([...extras].sort());
    for (const label of submitted.also) {
      expect(label).toMatchObject({
        source: 'HUMAN',
        roundNumber: 1,
        annotator: { email: 'alice@example.com' },
        labelClass: { id: classOf(claimed.item.id) },
      });
    }
    expect(submitted.alsoSkipped).toEqual([
      { itemId: alreadyLabeled, reason: 'already labeled' },
      { itemId: askedElsewhere, reason: 'asked in another task' },
      { itemId: '00000000-0000-0000-0000-000000000000', reason: 'not an item of this project' },
    ]);
    const after = await budget();
    expect(after.spent).toBe(before.spent + 4);
    expect(after.reserved).toBe(before.reserved - 1);
    expect(after.remaining).toBe(before.remaining - 3);
  });

  it('refuses extra items the budget does not cover, writing nothing', async () => {
    const [, bob] = people;
    const before = await budget();
    const claimed = (await api.ok(bob!, CLAIM, { slug })).claimNextTask;
    const extras = take(before.remaining + 1);
    const refused = await api.gql(bob!, SUBMIT, {
      task: claimed.id,
      cls: classOf(claimed.item.id),
      also: extras,
    });
    expect(codes(refused)).toEqual(['BUDGET_EXHAUSTED']);
    expect(await budget()).toEqual(before);
    expect(
      await api.db.prisma.label.count({ where: { itemId: { in: [claimed.item.id, ...extras] } } }),
    ).toBe(0);
    expect(
      (await api.db.prisma.labelTask.findUniqueOrThrow({ where: { id: claimed.id } })).status,
    ).toBe('CLAIMED');
    spare.push(...extras);
    // Within the budget, the same submission goes through.
    const ok = await api.ok(bob!, SUBMIT, {
      task: claimed.id,
      cls: classOf(claimed.item.id),
      also: extras.slice(0, 1),
    });
    expect(ok.submitLabel.also).toHaveLength(1);
    spare.splice(spare.indexOf(extras[0]!), 1);
  });

  it('annotators submitting at once never overspend: the budget stays exact', async () => {
    const before = await budget();
    expect(before.remaining).toBeGreaterThanOrEqual(4);
    const each = Math.floor(before.remaining / 2); // two can be paid for, four are asked
    const claims = await Promise.all(
      people.map(async (p) => ({ p, task: (await api.ok(p, CLAIM, { slug })).claimNextTask })),
    );
    const answers = await Promise.all(
      claims.map(({ p, task }) =>
        api.gql(p, SUBMIT, { task: task.id, cls: classOf(task.item.id), also: take(each) }),
      ),
    );
    const accepted = answers.filter((a) => !a.errors);
    const refused = answers.filter((a) => a.errors);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeLessThanOrEqual(Math.floor(before.remaining / each));
    expect(refused.every((a) => codes(a)[0] === 'BUDGET_EXHAUSTED')).toBe(true);
    const after = await budget();
    expect(after.spent).toBe(before.spent + accepted.length * (1 + each));
    expect(after.reserved).toBe(before.reserved - accepted.length);
    expect(after.spent + after.reserved).toBeLessThanOrEqual(after.total);
    expect(after.remaining).toBe(after.total - after.spent - after.reserved);
    const humanLabels = await api.db.prisma.label.count({
      where: { projectId: seeded.projectId, source: 'HUMAN' },
    });
    expect(humanLabels).toBe(after.spent);
  });
});
