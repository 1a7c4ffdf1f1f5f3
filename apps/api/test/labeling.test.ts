import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api } from './harness.ts';

const CLAIM = `mutation ($slug: String!) { claimNextTask(project: $slug) {
  id status leaseExpiresAt item { id prediction { labelClass { name } } neighbors(k: 3) { labelClass { name } } } } }`;
const SUBMIT = `mutation ($task: ID!, $cls: ID!) { submitLabel(taskId: $task, labelClassId: $cls) {
  duplicate label { id source labelClass { id } annotator { email } } task { status } } }`;
const BUDGET = `query ($slug: String!) { budget(project: $slug) { total spent reserved remaining
  perAnnotator { user { email } labels skipped } roundsLeft } }`;

describe('labeling through the API', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let alice: { id: string; cookie: string };
  let bob: { id: string; cookie: string };
  let manager: { cookie: string };
  const slug = 'fm-labeling';

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 400, labeled: 100, slug, budget: 1000 });
    alice = await api.user('alice@example.com', { projectId: seeded.projectId, role: 'ANNOTATOR' });
    bob = await api.user('bob@example.com', { projectId: seeded.projectId, role: 'ANNOTATOR' });
    manager = await api.user('manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    // A round without a workflow, with 220 open tasks on unlabeled pool items.
    const round = await api.db.prisma.round.create({
      data: { projectId: seeded.projectId, number: 1, status: 'LABELING', budgetAsked: 220 },
    });
    const unlabeled = seeded.items.filter((i) => i.split === 'POOL').slice(100, 320);
    await api.db.prisma.labelTask.createMany({
      data: unlabeled.map((item, i) => ({
        projectId: seeded.projectId,
        roundId: round.id,
        itemId: item.id,
        priority: i,
      })),
    });
  });
  afterAll(() => api?.stop());

  const truthOf = (itemId: string) => seeded.items.find((i) => i.id === itemId)!.hiddenClassId!;

  it('eight annotators claiming 200 times at once never get the same task; 25 open claims each at most', async () => {
    const crowd = [alice, bob];
    for (let i = 0; i < 6; i++) {
      crowd.push(
        await api.user(`crowd-${i}@example.com`, {
          projectId: seeded.projectId,
          role: 'ANNOTATOR',
        }),
      );
    }
    const claims = await Promise.all(
      Array.from({ length: 200 }, (_, i) => api.ok(crowd[i % 8]!, CLAIM, { slug })),
    );
    const ids = claims.map((c) => c.claimNextTask?.id);
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(200);
    const rows = await api.db.prisma.labelTask.findMany({ where: { id: { in: ids } } });
    expect(rows.every((r) => r.status === 'CLAIMED')).toBe(true);
    expect(rows.filter((r) => r.assigneeId === alice.id)).toHaveLength(25);
    const first = claims[0]!.claimNextTask;
    expect(first.item.prediction.labelClass.name).toBeTruthy();
    expect(first.item.neighbors).toHaveLength(3);
    expect(new Date(first.leaseExpiresAt).getTime()).toBeGreaterThan(Date.now());

    // A 26th claim is refused, even when asked for many times at once; answering or skipping
    // one makes room for the next.
    const crowded = crowd[2]!;
    const over = await Promise.all(
      Array.from({ length: 5 }, () => api.gql(crowded, CLAIM, { slug })),
    );
    for (const r of over) {
      expect(codes(r)).toEqual(['CONFLICT']);
      expect(r.errors![0]!.message).toMatch(/at most 25/);
    }
    const held = await api.db.prisma.labelTask.findFirstOrThrow({
      where: { assigneeId: crowded.id, status: 'CLAIMED' },
    });
    await api.ok(crowded, `mutation ($t: ID!) { skipTask(taskId: $t) { status } }`, {
      t: held.id,
    });
    expect((await api.ok(crowded, CLAIM, { slug })).claimNextTask.id).toBeTruthy();
    expect(
      await api.db.prisma.labelTask.count({
        where: { assigneeId: crowded.id, status: 'CLAIMED' },
      }),
    ).toBe(25);
  });

  it("API keys may not claim, answer or skip tasks; nobody skips someone else's claim", async () => {
    // A key with a role that may label, made by a project admin.
    const admin = await api.user('admin-keys@example.com', {
      projectId: seeded.projectId,
      role: 'ADMIN',
    });
    const made = await api.ok(
      admin,
      `mutation { createApiKey(project: "${slug}", name: "labeling bot", role: MANAGER) { secret } }`,
    );
    const bot = { apiKey: made.createApiKey.secret };
    const alices = await api.db.prisma.labelTask.findFirstOrThrow({
      where: { assigneeId: alice.id, status: 'CLAIMED' },
    });
    const claim = await api.gql(bot, CLAIM, { slug });
    const submit = await api.gql(bot, SUBMIT, { task: alices.id, cls: truthOf(alices.itemId) });
    const skip = await api.gql(bot, `mutation ($t: ID!) { skipTask(taskId: $t) { status } }`, {
      t: alices.id,
    });
    for (const r of [claim, submit, skip]) {
      expect(codes(r)).toEqual(['FORBIDDEN']);
      expect(r.errors![0]!.message).toMatch(/by people, not API keys/);
    }
    const bobSkips = await api.gql(bob, `mutation ($t: ID!) { skipTask(taskId: $t) { status } }`, {
      t: alices.id,
    });
    expect(codes(bobSkips)).toEqual(['CONFLICT']);
    expect(bobSkips.errors![0]!.message).toMatch(/claimed by someone else/);
    const row = await api.db.prisma.labelTask.findUniqueOrThrow({ where: { id: alices.id } });
    expect(row).toMatchObject({ status: 'CLAIMED', assigneeId: alice.id });
  });

  it('a duplicate submission stores exactly one label; a different answer is refused', async () => {
    const task = await api.db.prisma.labelTask.findFirstOrThrow({
      where: { projectId: seeded.projectId, assigneeId: alice.id, status: 'CLAIMED' },
    });
    const cls = truthOf(task.itemId);
    const [a, b] = await Promise.all([
      api.gql(alice, SUBMIT, { task: task.id, cls }),
      api.gql(alice, SUBMIT, { task: task.id, cls }),
    ]);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect([a.data!.submitLabel.duplicate, b.data!.submitLabel.duplicate].sort()).toEqual([
      false,
      true,
    ]);
    expect(a.data!.submitLabel.label.id).toBe(b.data!.submitLabel.label.id);
    expect(a.data!.submitLabel.label).toMatchObject({
      source: 'HUMAN',
      annotator: { email: 'alice@example.com' },
    });
    expect(await api.db.prisma.label.count({ where: { itemId: task.itemId } })).toBe(1);

    const other = (
      await api.db.prisma.labelClass.findFirstOrThrow({
        where: { projectId: seeded.projectId, id: { not: cls } },
      })
    ).id;
    const changed = await api.gql(alice, SUBMIT, { task: task.id, cls: other });
    expect(codes(changed)).toEqual(['CONFLICT']);
    expect(await api.db.prisma.label.count({ where: { itemId: task.itemId } })).toBe(1);
  });

  it("refuses a label after the lease expired, and on someone else's task, changing nothing", async () => {
    const [expired, bobs] = await Promise.all([
      api.db.prisma.labelTask.findFirstOrThrow({
        where: { assigneeId: alice.id, status: 'CLAIMED' },
      }),
      api.db.prisma.labelTask.findFirstOrThrow({
        where: { assigneeId: bob.id, status: 'CLAIMED' },
      }),
    ]);
    // The lease ran out (as if its 300 s had passed).
    await api.db.pool.query(
      `UPDATE label_tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $1`,
      [expired.id],
    );
    const labelsBefore = await api.db.prisma.label.count({
      where: { projectId: seeded.projectId },
    });
    const late = await api.gql(alice, SUBMIT, { task: expired.id, cls: truthOf(expired.itemId) });
    expect(codes(late)).toEqual(['CONFLICT']);
    expect(late.errors![0]!.message).toMatch(/past its lease/);
    const foreign = await api.gql(alice, SUBMIT, { task: bobs.id, cls: truthOf(bobs.itemId) });
    expect(codes(foreign)).toEqual(['CONFLICT']);
    expect(foreign.errors![0]!.message).toMatch(/claimed by someone else/);
    expect(await api.db.prisma.label.count({ where: { projectId: seeded.projectId } })).toBe(
      labelsBefore,
    );
    expect(
      (await api.db.prisma.labelTask.findUniqueOrThrow({ where: { id: bobs.id } })).status,
    ).toBe('CLAIMED');
  });

  it('an unknown or retired class is a clear error', async () => {
    const task = await api.db.prisma.labelTask.findFirstOrThrow({
      where: { assigneeId: bob.id, status: 'CLAIMED' },
    });
    const unknown = await api.gql(bob, SUBMIT, {
      task: task.id,
      cls: '00000000-0000-0000-0000-000000000000',
    });
    expect(codes(unknown)).toEqual(['BAD_USER_INPUT']);
    expect(unknown.errors![0]!.message).toMatch(/not a class of this project/);
  });

  it('skipping gives the budget back, and the budget counts per annotator', async () => {
    const before = (await api.ok(manager, BUDGET, { slug })).budget;
    const task = await api.db.prisma.labelTask.findFirstOrThrow({
      where: { assigneeId: bob.id, status: 'CLAIMED' },
    });
    const skipped = await api.ok(bob, `mutation ($t: ID!) { skipTask(taskId: $t) { status } }`, {
      t: task.id,
    });
    expect(skipped.skipTask.status).toBe('SKIPPED');
    const again = await api.gql(bob, `mutation ($t: ID!) { skipTask(taskId: $t) { status } }`, {
      t: task.id,
    });
    expect(codes(again)).toEqual(['CONFLICT']);
    const after = (await api.ok(manager, BUDGET, { slug })).budget;
    expect(after.reserved).toBe(before.reserved - 1);
    expect(after.remaining).toBe(before.remaining + 1);
    expect(after.spent).toBe(1);
    expect(after.total).toBe(1000);
    expect(after.perAnnotator).toEqual(
      expect.arrayContaining([
        { user: { email: 'alice@example.com' }, labels: 1, skipped: 0 },
        { user: { email: 'bob@example.com' }, labels: 0, skipped: 1 },
      ]),
    );
  });

  it('relabel appends to the history; reverting an auto label withdraws it', async () => {
    const item = seeded.labeled[0]!;
    const other = (
      await api.db.prisma.labelClass.findFirstOrThrow({
        where: { projectId: seeded.projectId, id: { not: item.hiddenClassId! } },
      })
    ).id;
    const noReason = await api.gql(
      alice,
      `mutation ($i: ID!, $c: ID!) { relabel(itemId: $i, labelClassId: $c, reason: " ") { id } }`,
      { i: item.id, c: other },
    );
    expect(codes(noReason)).toEqual(['BAD_USER_INPUT']);
    await api.ok(
      alice,
      `mutation ($i: ID!, $c: ID!) { relabel(itemId: $i, labelClassId: $c, reason: "sleeve visible") { id } }`,
      { i: item.id, c: other },
    );
    const history = await api.ok(
      manager,
      `query ($i: ID!) { item(id: $i) { label { labelClass { id } source reason } labelHistory { source reason } } }`,
      { i: item.id },
    );
    expect(history.item.label).toEqual({
      labelClass: { id: other },
      source: 'HUMAN',
      reason: 'sleeve visible',
    });
    expect(history.item.labelHistory.map((l: any) => l.source)).toEqual(['IMPORT', 'HUMAN']);

    const auto = seeded.items.filter((i) => i.split === 'POOL')[399]!;
    await api.db.prisma.label.create({
      data: {
        projectId: seeded.projectId,
        itemId: auto.id,
        labelClassId: other,
        source: 'AUTO',
        confidence: 0.99,
      },
    });
    const annotatorTry = await api.gql(
      alice,
      `mutation ($i: ID!) { revertAutoLabel(itemId: $i) { id } }`,
      { i: auto.id },
    );
    expect(codes(annotatorTry)).toEqual(['FORBIDDEN']);
    const reverted = await api.ok(
      manager,
      `mutation ($i: ID!) { revertAutoLabel(itemId: $i, reason: "wrong") { labelClass { id } source } }`,
      { i: auto.id },
    );
    expect(reverted.revertAutoLabel).toEqual({ labelClass: null, source: 'AUTO' });
    const after = await api.ok(
      manager,
      `query ($i: ID!) { item(id: $i) { label { id } labelHistory { source } } }`,
      { i: auto.id },
    );
    expect(after.item.label).toBeNull();
    expect(after.item.labelHistory).toHaveLength(2);
    const twice = await api.gql(
      manager,
      `mutation ($i: ID!) { revertAutoLabel(itemId: $i) { id } }`,
      { i: auto.id },
    );
    expect(codes(twice)).toEqual(['CONFLICT']);
  });
});
