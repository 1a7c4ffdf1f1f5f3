// Gold questions: GOLD items mixed into an annotator's queue at the project's rate, looking like
// tasks, scored against the gold label without touching it; accuracy for managers only.
import { isGoldClaim } from '@beanstalk/db';
import { scorePool } from '@beanstalk/model-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api } from './harness.ts';

const CLAIM = `mutation ($slug: String!) { claimNextTask(project: $slug) {
  id status priority roundNumber
  item { id split label { id } labelHistory { id } prediction { confidence } } } }`;
const SUBMIT = `mutation ($task: ID!, $cls: ID!) { submitLabel(taskId: $task, labelClassId: $cls) {
  duplicate label { source labelClass { id } } task { status } } }`;
const SKIP = `mutation ($t: ID!) { skipTask(taskId: $t) { status } }`;
const BUDGET = `query ($slug: String!) { budget(project: $slug) { spent reserved
  perAnnotator { user { email } labels skipped quality { goldAnswered goldCorrect goldAccuracy
  belowGoldLevel minGoldAnswers } } } }`;
const SETTINGS = `mutation ($slug: String!, $input: ProjectSettingsInput!) {
  updateProjectSettings(project: $slug, input: $input) { goldRate goldAccuracyWarning } }`;

describe('gold questions', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let alice: { id: string; cookie: string };
  let manager: { id: string; cookie: string };
  const slug = 'fm-gold';
  const gold = new Map<string, string>(); // item id -> gold class id

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 300, labeled: 100, slug, budget: 1000 });
    alice = await api.user('alice@example.com', { projectId: seeded.projectId, role: 'ANNOTATOR' });
    manager = await api.user('manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    const pool = seeded.items.filter((i) => i.split === 'POOL');
    // Eight unlabeled pool images become the gold set, labeled with their true class.
    for (const item of pool.slice(200, 208)) {
      gold.set(item.id, item.hiddenClassId!);
      await api.db.prisma.item.update({ where: { id: item.id }, data: { split: 'GOLD' } });
      await api.db.prisma.label.create({
        data: {
          projectId: seeded.projectId,
          itemId: item.id,
          labelClassId: item.hiddenClassId!,
          source: 'GOLD',
        },
      });
    }
    // The vector set keeps its own copy of the split (set when items are ingested).
    await api.db.prisma.$executeRaw`UPDATE item_vectors SET split = 'GOLD'
      WHERE item_id = ANY(${[...gold.keys()]}::uuid[])`;
    // Gold from the start, as at ingest: no prediction from the days they were pool items.
    await api.db.prisma.prediction.deleteMany({ where: { itemId: { in: [...gold.keys()] } } });
    // The round's scoring: predictions for the unlabeled pool and for the gold items.
    await scorePool(api.db.db, { headVersionId: seeded.headVersionId, roundId: null, k: 10 });
    // A round without a workflow, with 40 open tasks.
    const round = await api.db.prisma.round.create({
      data: { projectId: seeded.projectId, number: 1, status: 'LABELING', budgetAsked: 40 },
    });
    await api.db.prisma.labelTask.createMany({
      data: pool.slice(100, 140).map((item, i) => ({
        projectId: seeded.projectId,
        roundId: round.id,
        itemId: item.id,
        priority: 1 - i / 40,
      })),
    });
  });
  afterAll(() => api?.stop());

  it('the rate is a manager setting of 0..0.5', async () => {
    const tooMany = await api.gql(manager, SETTINGS, { slug, input: { goldRate: 0.7 } });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(codes(await api.gql(alice, SETTINGS, { slug, input: { goldRate: 0.5 } }))).toEqual([
      'FORBIDDEN',
    ]);
    const set = await api.ok(manager, SETTINGS, { slug, input: { goldRate: 0.5 } });
    expect(set.updateProjectSettings).toEqual({ goldRate: 0.5, goldAccuracyWarning: 0.8 });
  });

  it('half of ten claims are gold questions, each a different gold item, looking like tasks', async () => {
    const before = (await api.ok(manager, BUDGET, { slug })).budget;
    const claims = [];
    for (let i = 0; i < 10; i++) claims.push((await api.ok(alice, CLAIM, { slug })).claimNextTask);
    const goldTasks = await api.db.prisma.goldTask.findMany({
      where: { id: { in: claims.map((c) => c.id) } },
    });
    // 10 x 0.5, exactly: the rate is spread evenly over a person's claims.
    expect(goldTasks).toHaveLength(5);
    expect(new Set(goldTasks.map((g) => g.itemId)).size).toBe(5);
    for (const g of goldTasks) expect(gold.get(g.itemId)).toBe(g.expectedClassId);
    for (const c of claims) {
      // To the annotator a gold item is a pool item without a label.
      expect(c).toMatchObject({ status: 'CLAIMED', roundNumber: 1 });
      expect(c.item).toMatchObject({ split: 'POOL', label: null, labelHistory: [] });
      // and the model's guess is shown for gold questions as for tasks.
      expect(c.item.prediction?.confidence).toBeGreaterThan(0);
    }
    // Gold questions take nothing from the budget: only the five real claims are reserved,
    // and those were reserved when the round opened.
    expect((await api.ok(manager, BUDGET, { slug })).budget.reserved).toBe(before.reserved);
    // Nor do they show in item lists for annotators; managers see them.
    const list = `query ($slug: String!) { items(project: $slug, filter: { split: GOLD }) { totalCount } }`;
    expect((await api.ok(alice, list, { slug })).items.totalCount).toBe(0);
    expect((await api.ok(manager, list, { slug })).items.totalCount).toBe(8);
  });

  it('answers are scored, never stored as labels; managers see accuracy and the warning', async () => {
    const open = await api.db.prisma.goldTask.findMany({
      where: { annotatorId: alice.id, status: 'CLAIMED' },
      orderBy: { claimedAt: 'asc' },
    });
    expect(open).toHaveLength(5);
    const classes = await api.db.prisma.labelClass.findMany({
      where: { projectId: seeded.projectId },
    });
    const other = (classId: string) => classes.find((c) => c.id !== classId)!.id;
    // Three right, one wrong, one skipped.
    for (const [n, g] of open.slice(0, 4).entries()) {
      const answer = n < 3 ? g.expectedClassId : other(g.expectedClassId);
      const r = await api.ok(alice, SUBMIT, { task: g.id, cls: answer });
      expect(r.submitLabel).toMatchObject({
        duplicate: false,
        label: { source: 'HUMAN', labelClass: { id: answer } },
        task: { status: 'DONE' },
      });
    }
    expect((await api.ok(alice, SKIP, { t: open[4]!.id })).skipTask.status).toBe('SKIPPED');
    // The same answer again is a duplicate; another is refused.
    const again = await api.ok(alice, SUBMIT, { task: open[0]!.id, cls: open[0]!.expectedClassId });
    expect(again.submitLabel.duplicate).toBe(true);
    const changed = await api.gql(alice, SUBMIT, {
      task: open[0]!.id,
      cls: other(open[0]!.expectedClassId),
    });
    expect(codes(changed)).toEqual(['CONFLICT']);
    // The gold labels stand: one label per gold item, the GOLD one.
    const labels = await api.db.prisma.label.findMany({
      where: { itemId: { in: [...gold.keys()] } },
    });
    expect(labels).toHaveLength(8);
    expect(labels.every((l) => l.source === 'GOLD' && gold.get(l.itemId) === l.labelClassId)).toBe(
      true,
    );

    const stats = (await api.ok(manager, BUDGET, { slug })).budget;
    const mine = stats.perAnnotator.find(
      (a: { user: { email: string } | null }) => a.user?.email === 'alice@example.com',
    );
    expect(mine).toMatchObject({
      labels: 0,
      skipped: 1,
      quality: { goldAnswered: 4, goldCorrect: 3, goldAccuracy: 0.75, minGoldAnswers: 5 },
    });
    // 0.75 is below the 0.8 warning level, but four answers are too few to warn.
    expect(mine.quality.belowGoldLevel).toBe(false);
    const next = (await api.ok(alice, CLAIM, { slug })).claimNextTask;
    let goldTask = await api.db.prisma.goldTask.findUnique({ where: { id: next.id } });
    if (!goldTask) {
      await api.ok(alice, SKIP, { t: next.id });
      const another = (await api.ok(alice, CLAIM, { slug })).claimNextTask;
      goldTask = await api.db.prisma.goldTask.findUniqueOrThrow({ where: { id: another.id } });
    }
    await api.ok(alice, SUBMIT, { task: goldTask.id, cls: other(goldTask.expectedClassId) });
    const after = (await api.ok(manager, BUDGET, { slug })).budget.perAnnotator.find(
      (a: { user: { email: string } | null }) => a.user?.email === 'alice@example.com',
    );
    expect(after.quality).toMatchObject({ goldAnswered: 5, goldCorrect: 3, belowGoldLevel: true });
    // Annotators do not see each other's (or their own) accuracy.
    const seen = (await api.ok(alice, BUDGET, { slug })).budget.perAnnotator;
    expect(seen.every((a: { quality: unknown }) => a.quality === null)).toBe(true);
  });

  it('agreement compares each person with the others who labeled the same image', async () => {
    const RELABEL = `mutation ($item: ID!, $cls: ID!) {
      relabel(itemId: $item, labelClassId: $cls, reason: "second look") { id } }`;
    const [a, b] = await api.db.prisma.labelClass.findMany({
      where: { projectId: seeded.projectId },
      orderBy: { position: 'asc' },
      take: 2,
    });
    const dave = await api.user('dave@example.com', {
      projectId: seeded.projectId,
      role: 'ANNOTATOR',
    });
    const image = seeded.items.filter((i) => i.split === 'POOL')[250]!.id;
    await api.ok(alice, RELABEL, { item: image, cls: a!.id });
    await api.ok(manager, RELABEL, { item: image, cls: b!.id });
    await api.ok(dave, RELABEL, { item: image, cls: a!.id });
    const people = (
      await api.ok(
        manager,
        `query ($slug: String!) { budget(project: $slug) { perAnnotator { user { email }
          quality { compared agreed agreement } } } }`,
        { slug },
      )
    ).budget.perAnnotator;
    const of = (email: string) =>
      people.find((p: { user: { email: string } | null }) => p.user?.email === email).quality;
    expect(of('alice@example.com')).toEqual({ compared: 2, agreed: 1, agreement: 0.5 });
    expect(of('manager@example.com')).toEqual({ compared: 2, agreed: 0, agreement: 0 });
    expect(of('dave@example.com')).toEqual({ compared: 2, agreed: 1, agreement: 0.5 });
  });

  it('gold items never come back to annotators as neighbours or on the map; managers see them', async () => {
    const probe = seeded.items.find((i) => i.split === 'POOL' && !gold.has(i.id))!;
    const NEAR = `query ($id: ID!, $filter: NeighborFilter) {
      item(id: $id) { neighbors(k: 100, filter: $filter) { item { id } labelClass { id } } } }`;
    const ids = async (as: typeof alice, filter: Record<string, unknown>) =>
      (await api.ok(as, NEAR, { id: probe.id, filter })).item.neighbors.map(
        (n: { item: { id: string } }) => n.item.id,
      );
    const onlyGold = { labeled: true, splits: ['GOLD'] };
    expect(new Set(await ids(manager, onlyGold))).toEqual(new Set(gold.keys()));
    expect(await ids(alice, onlyGold)).toEqual([]);
    const labeled = await ids(alice, { labeled: true });
    expect(labeled).toHaveLength(100);
    expect(labeled.filter((id: string) => gold.has(id))).toEqual([]);
    const MAP = `query ($slug: String!) { embeddingMap(project: $slug) { points { itemId } } }`;
    const mapped = async (as: typeof alice) =>
      (await api.ok(as, MAP, { slug })).embeddingMap.points
        .map((p: { itemId: string }) => p.itemId)
        .filter((id: string) => gold.has(id)).length;
    expect(await mapped(manager)).toBe(gold.size);
    expect(await mapped(alice)).toBe(0);
  });

  it('an empty queue gives no gold question, even on a gold turn', async () => {
    // Someone whose first claim falls on a gold turn at rate 0.5.
    let n = 0;
    let carol = await api.user(`carol-${n}@example.com`, {
      projectId: seeded.projectId,
      role: 'ANNOTATOR',
    });
    // Half of all ids qualify; 40 misses in a row would be a broken isGoldClaim.
    while (!isGoldClaim(carol.id, 0, 0.5)) {
      expect(n).toBeLessThan(40);
      n++;
      carol = await api.user(`carol-${n}@example.com`, {
        projectId: seeded.projectId,
        role: 'ANNOTATOR',
      });
    }
    await api.db.prisma.labelTask.updateMany({
      where: { projectId: seeded.projectId, status: 'OPEN' },
      data: { status: 'EXPIRED' },
    });
    expect((await api.ok(carol, CLAIM, { slug })).claimNextTask).toBeNull();
    expect(await api.db.prisma.goldTask.count({ where: { annotatorId: carol.id } })).toBe(0);
  });
});
