// Data quality through the API. The review queue: who sees flagged labels, what a decision
// writes, and that two reviewers never both win. Near-duplicates: how an item shows the image it
// copies, and how the explorer filters them. Issues and marks are stored here as the checks
// store them (the checks themselves run in apps/worker/test/round.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api } from './harness.ts';

const ISSUES = `query ($slug: String!, $status: LabelIssueStatus, $first: Int, $offset: Int) {
  labelIssues(project: $slug, status: $status, first: $first, offset: $offset) {
    totalCount
    issues { id status score selfConfidence suggestedClass { id name } reason
      reviewedBy { email } reviewLabel { id labelClass { id } }
      label { id source labelClass { id name } }
      item { id labelHistory { id source labelClass { id } } neighbors(k: 3) { item { id } } } } } }`;
const REVIEW = `mutation ($id: ID!, $decision: ReviewDecision!, $cls: ID, $reason: String) {
  reviewLabelIssue(issueId: $id, decision: $decision, labelClassId: $cls, reason: $reason) {
    id status reason reviewedBy { email } reviewLabel { source labelClass { id } annotator { email } } } }`;
const HEALTH = `query ($slug: String!) { labelHealth(project: $slug) { open kept relabeled cleared } }`;

describe('the review queue through the API', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let manager: { cookie: string };
  let annotator: { cookie: string };
  let outsider: { cookie: string };
  const slug = 'fm-review';
  /** Suggested class per flagged label: the next class of its own. */
  const flagged: { labelId: string; itemId: string; suggestedClassId: string; score: number }[] =
    [];

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 200, labeled: 40, slug, budget: 100 });
    manager = await api.user('rev-manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    annotator = await api.user('rev-annotator@example.com', {
      projectId: seeded.projectId,
      role: 'ANNOTATOR',
    });
    const other = await api.seedProject({ limit: 20, labeled: 0, slug: 'fm-review-other' });
    outsider = await api.user('rev-outsider@example.com', {
      projectId: other.projectId,
      role: 'MANAGER',
    });
    const classes = await api.db.db.classes.ofProject(seeded.projectId);
    const current = await api.db.db.labels.current(seeded.labeled.map((i) => i.id));
    for (const [n, item] of seeded.labeled.slice(0, 3).entries()) {
      const label = current.get(item.id)!;
      const own = classes.findIndex((c) => c.id === label.labelClassId);
      flagged.push({
        labelId: label.id,
        itemId: item.id,
        suggestedClassId: classes[(own + 1) % classes.length]!.id,
        score: 0.9 - n * 0.2,
      });
    }
    await api.db.db.labelIssues.record({
      projectId: seeded.projectId,
      roundId: null,
      found: flagged.map((f) => ({ ...f, selfConfidence: 0.1 })),
      checkedLabelIds: [...current.values()].map((l) => l.id),
    });
  });
  afterAll(() => api?.stop());

  it('shows managers the flagged labels, most suspect first, with image, history and neighbours', async () => {
    const { labelIssues } = await api.ok(manager, ISSUES, { slug });
    expect(labelIssues.totalCount).toBe(3);
    expect(labelIssues.issues.map((i: any) => i.label.id)).toEqual(flagged.map((f) => f.labelId));
    const top = labelIssues.issues[0];
    expect(top).toMatchObject({
      status: 'OPEN',
      score: 0.9,
      selfConfidence: 0.1,
      suggestedClass: { id: flagged[0]!.suggestedClassId },
      label: { source: 'IMPORT' },
      item: { id: flagged[0]!.itemId },
    });
    expect(top.item.labelHistory).toHaveLength(1);
    expect(top.item.neighbors).toHaveLength(3);
    const page = await api.ok(manager, ISSUES, { slug, first: 1, offset: 2 });
    expect(page.labelIssues.issues.map((i: any) => i.label.id)).toEqual([flagged[2]!.labelId]);
    expect(page.labelIssues.totalCount).toBe(3);
    expect((await api.ok(annotator, HEALTH, { slug })).labelHealth).toEqual({
      open: 3,
      kept: 0,
      relabeled: 0,
      cleared: 0,
    });
  });

  it('refuses annotators, other projects, unknown ids and oversized pages', async () => {
    expect(codes(await api.gql(annotator, ISSUES, { slug }))).toEqual(['FORBIDDEN']);
    expect(codes(await api.gql(outsider, ISSUES, { slug }))).toEqual(['FORBIDDEN']);
    expect(codes(await api.gql(manager, ISSUES, { slug, first: 101 }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await api.gql(manager, ISSUES, { slug, offset: -1 }))).toEqual(['BAD_USER_INPUT']);
    const { labelIssues } = await api.ok(manager, ISSUES, { slug });
    const id = labelIssues.issues[0].id;
    expect(codes(await api.gql(annotator, REVIEW, { id, decision: 'KEEP' }))).toEqual([
      'FORBIDDEN',
    ]);
    // Another project's reviewer does not learn the issue exists.
    expect(codes(await api.gql(outsider, REVIEW, { id, decision: 'KEEP' }))).toEqual(['NOT_FOUND']);
    expect(codes(await api.gql(manager, REVIEW, { id: 'nope', decision: 'KEEP' }))).toEqual([
      'NOT_FOUND',
    ]);
    expect(await api.db.prisma.labelIssue.count({ where: { status: 'OPEN' } })).toBe(3);
  });

  it('keep closes an issue; relabel writes the reviewer’s label on top; a second decision is refused', async () => {
    const [first, second] = flagged;
    const byLabel = async (labelId: string) =>
      (await api.db.prisma.labelIssue.findUniqueOrThrow({ where: { labelId } })).id;
    const kept = await api.ok(manager, REVIEW, {
      id: await byLabel(first!.labelId),
      decision: 'KEEP',
      reason: 'the sleeve is short: it is a T-shirt',
    });
    expect(kept.reviewLabelIssue).toMatchObject({
      status: 'KEPT',
      reviewedBy: { email: 'rev-manager@example.com' },
      reviewLabel: null,
    });
    const id = await byLabel(second!.labelId);
    expect(codes(await api.gql(manager, REVIEW, { id, decision: 'RELABEL' }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const spent = (await api.db.db.budget.of(seeded.projectId)).spent;
    const relabeled = await api.ok(manager, REVIEW, {
      id,
      decision: 'RELABEL',
      cls: second!.suggestedClassId,
      reason: 'neighbours are right',
    });
    expect(relabeled.reviewLabelIssue).toMatchObject({
      status: 'RELABELED',
      reviewLabel: {
        source: 'HUMAN',
        labelClass: { id: second!.suggestedClassId },
        annotator: { email: 'rev-manager@example.com' },
      },
    });
    expect((await api.db.db.budget.of(seeded.projectId)).spent).toBe(spent + 1);
    const current = await api.db.db.labels.current([second!.itemId]);
    expect(current.get(second!.itemId)!.labelClassId).toBe(second!.suggestedClassId);
    // Two reviewers at once on the last one: exactly one decision lands.
    const last = await byLabel(flagged[2]!.labelId);
    const both = await Promise.all([
      api.gql(manager, REVIEW, { id: last, decision: 'KEEP' }),
      api.gql(manager, REVIEW, {
        id: last,
        decision: 'RELABEL',
        cls: flagged[2]!.suggestedClassId,
        reason: 'r',
      }),
    ]);
    expect(both.map(codes).flat()).toEqual(['CONFLICT']);
    expect(codes(await api.gql(manager, REVIEW, { id, decision: 'KEEP' }))).toEqual(['CONFLICT']);
    const health = (await api.ok(manager, HEALTH, { slug })).labelHealth;
    expect(health.open).toBe(0);
    expect(health.kept + health.relabeled).toBe(3);
  });
});

describe('auto labels under review through the API', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let manager: { cookie: string };
  const slug = 'fm-auto-review';
  const AUTO = `query ($slug: String!, $first: Int) { autoLabels(project: $slug, first: $first) {
    totalCount labels { confidence source labelClass { id } item { id } } } }`;

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 60, labeled: 10, slug, budget: 100 });
    manager = await api.user('auto-manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
  });
  afterAll(() => api?.stop());

  it('lists current auto labels least confident first; a confirmed or withdrawn one leaves', async () => {
    const classes = await api.db.db.classes.ofProject(seeded.projectId);
    const free = seeded.items.filter((i) => i.split === 'POOL').slice(20, 25);
    const confidences = [0.97, 0.91, 0.99, 0.93, 0.95];
    for (const [n, item] of free.entries()) {
      await api.db.prisma.label.create({
        data: {
          projectId: seeded.projectId,
          itemId: item.id,
          labelClassId: classes[n]!.id,
          source: 'AUTO',
          confidence: confidences[n]!,
        },
      });
    }
    const list = async (first = 20) => (await api.ok(manager, AUTO, { slug, first })).autoLabels;
    const all = await list();
    expect(all.totalCount).toBe(5);
    expect(all.labels.map((l: { confidence: number }) => l.confidence)).toEqual([
      0.91, 0.93, 0.95, 0.97, 0.99,
    ]);
    expect((await list(2)).totalCount).toBe(5);
    // Confirming the least confident makes it a person's label; withdrawing the next ends it.
    const [first, second] = all.labels;
    await api.ok(
      manager,
      `mutation ($item: ID!, $cls: ID!) { relabel(itemId: $item, labelClassId: $cls, reason: "confirmed") { source } }`,
      { item: first.item.id, cls: first.labelClass.id },
    );
    await api.ok(manager, `mutation ($item: ID!) { revertAutoLabel(itemId: $item) { id } }`, {
      item: second.item.id,
    });
    const after = await list();
    expect(after.totalCount).toBe(3);
    expect(after.labels.map((l: { confidence: number }) => l.confidence)).toEqual([
      0.95, 0.97, 0.99,
    ]);
    expect(codes(await api.gql(manager, AUTO, { slug, first: 101 }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('disagreements and second opinions through the API', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let manager: { cookie: string };
  const people: { id: string; cookie: string }[] = [];
  const slug = 'fm-disagree';
  const RELABEL = `mutation ($item: ID!, $cls: ID!) {
    relabel(itemId: $item, labelClassId: $cls, reason: "my reading") { id } }`;
  const CLAIM = `mutation ($slug: String!) { claimNextTask(project: $slug) { id item { id } } }`;

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 100, labeled: 20, slug, budget: 100 });
    manager = await api.user('dis-manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    for (const name of ['ann1', 'ann2', 'ann3']) {
      people.push(
        await api.user(`dis-${name}@example.com`, {
          projectId: seeded.projectId,
          role: 'ANNOTATOR',
        }),
      );
    }
  });
  afterAll(() => api?.stop());

  it('two people who label an image differently open a disagreement; a reviewer sends it to a third', async () => {
    const [ann1, ann2, ann3] = people;
    const classes = await api.db.db.classes.ofProject(seeded.projectId);
    const [a, b] = classes;
    const pool = seeded.items.filter((i) => i.split === 'POOL').slice(40);
    const [x, z, w] = pool;
    await api.ok(ann1!, RELABEL, { item: x!.id, cls: a!.id });
    await api.ok(ann2!, RELABEL, { item: x!.id, cls: b!.id });
    await api.ok(ann1!, RELABEL, { item: z!.id, cls: a!.id });
    // Once, however often the check runs.
    expect(await api.db.db.labelIssues.recordDisagreements(seeded.projectId, null)).toBe(1);
    expect(await api.db.db.labelIssues.recordDisagreements(seeded.projectId, null)).toBe(0);
    const listed = (
      await api.ok(
        manager,
        `query ($slug: String!) { labelIssues(project: $slug) { issues { id kind score
          suggestedClass { id } label { id labelClass { id } annotator { email } } item { id } } } }`,
        { slug },
      )
    ).labelIssues.issues;
    expect(listed).toHaveLength(1);
    const issue = listed[0];
    expect(issue).toMatchObject({
      kind: 'DISAGREEMENT',
      score: 1,
      suggestedClass: { id: a!.id },
      label: { labelClass: { id: b!.id }, annotator: { email: 'dis-ann2@example.com' } },
      item: { id: x!.id },
    });
    // The neighbour check neither clears nor downgrades it.
    await api.db.db.labelIssues.record({
      projectId: seeded.projectId,
      roundId: null,
      found: [],
      checkedLabelIds: [issue.label.id],
    });
    expect(
      await api.db.prisma.labelIssue.findUniqueOrThrow({ where: { id: issue.id } }),
    ).toMatchObject({ kind: 'DISAGREEMENT', status: 'OPEN' });

    // A second opinion needs a round taking labels.
    const send = { id: issue.id, decision: 'SEND', reason: 'ask someone else' };
    const early = await api.gql(manager, REVIEW, send);
    expect(codes(early)).toEqual(['CONFLICT']);
    expect(early.errors![0]!.message).toMatch(/no round is taking labels/);
    const round = await api.db.prisma.round.create({
      data: { projectId: seeded.projectId, number: 1, status: 'LABELING', budgetAsked: 1 },
    });
    await api.db.prisma.labelTask.create({
      data: { projectId: seeded.projectId, roundId: round.id, itemId: w!.id, priority: 0.5 },
    });
    const reserved = async () =>
      (
        await api.ok(manager, `query ($slug: String!) { budget(project: $slug) { reserved } }`, {
          slug,
        })
      ).budget.reserved;
    const before = await reserved();
    expect((await api.ok(manager, REVIEW, send)).reviewLabelIssue.status).toBe('SENT');
    expect(await reserved()).toBe(before + 1);
    // First in the queue, but not for the two who disagreed.
    expect((await api.ok(ann1!, CLAIM, { slug })).claimNextTask.item.id).toBe(w!.id);
    expect((await api.ok(ann2!, CLAIM, { slug })).claimNextTask).toBeNull();
    const third = (await api.ok(ann3!, CLAIM, { slug })).claimNextTask;
    expect(third.item.id).toBe(x!.id);
    // Sent once: the issue is closed.
    expect(codes(await api.gql(manager, REVIEW, send))).toEqual(['CONFLICT']);
    const health = (
      await api.ok(
        manager,
        `query ($slug: String!) { labelHealth(project: $slug) { open sent } }`,
        {
          slug,
        },
      )
    ).labelHealth;
    expect(health).toEqual({ open: 0, sent: 1 });
  });
});

describe('near-duplicates through the API', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let manager: { cookie: string };
  const slug = 'fm-near-duplicates';
  const ITEM = `query ($id: ID!) { item(id: $id) { id nearDuplicateOf { id } nearDuplicates { id } } }`;
  const ITEMS = `query ($slug: String!, $near: Boolean) {
    items(project: $slug, filter: { nearDuplicate: $near }, first: 100) { totalCount edges { node { id } } } }`;

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 60, labeled: 0, slug });
    manager = await api.user('nd-manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
  });
  afterAll(() => api?.stop());

  it('an item names the image it nearly duplicates, and the original lists its copies', async () => {
    const [a, b, c] = seeded.items;
    expect(
      await api.db.db.items.markNearDuplicates({
        projectId: seeded.projectId,
        marks: [
          { itemId: b!.id, ofId: a!.id },
          { itemId: c!.id, ofId: a!.id },
        ],
        checkedIds: seeded.items.map((i) => i.id),
      }),
    ).toBe(2);
    // A later check does not move a mark.
    expect(
      await api.db.db.items.markNearDuplicates({
        projectId: seeded.projectId,
        marks: [{ itemId: c!.id, ofId: b!.id }],
        checkedIds: [],
      }),
    ).toBe(0);
    const original = (await api.ok(manager, ITEM, { id: a!.id })).item;
    expect(original.nearDuplicateOf).toBeNull();
    expect(original.nearDuplicates.map((i: any) => i.id).sort()).toEqual([b!.id, c!.id].sort());
    expect((await api.ok(manager, ITEM, { id: c!.id })).item.nearDuplicateOf).toEqual({
      id: a!.id,
    });
    const only = (await api.ok(manager, ITEMS, { slug, near: true })).items;
    expect(only.totalCount).toBe(2);
    expect((await api.ok(manager, ITEMS, { slug, near: false })).items.totalCount).toBe(
      seeded.items.length - 2,
    );
  });

  it('with near-duplicates linked, an image proposes the unlabeled rest of its group', async () => {
    const [a, b, c, d] = seeded.items;
    const PROPOSED = `query ($id: ID!) { item(id: $id) { proposedAlongside { id } } }`;
    const proposed = async (id: string) =>
      (await api.ok(manager, PROPOSED, { id })).item.proposedAlongside
        .map((i: { id: string }) => i.id)
        .sort();
    const pool = (...items: (typeof a)[]) =>
      items
        .filter((i) => i!.split === 'POOL')
        .map((i) => i!.id)
        .sort();
    expect(await proposed(b!.id)).toEqual([]);
    const LINK = `mutation ($slug: String!) {
      updateProjectSettings(project: $slug, input: { linkNearDuplicates: true }) { linkNearDuplicates } }`;
    expect((await api.ok(manager, LINK, { slug })).updateProjectSettings).toEqual({
      linkNearDuplicates: true,
    });
    expect(await proposed(b!.id)).toEqual(pool(a, c));
    expect(await proposed(a!.id)).toEqual(pool(b, c));
    expect(await proposed(d!.id)).toEqual([]);
    // A labeled member is no longer proposed.
    const classes = await api.db.db.classes.ofProject(seeded.projectId);
    await api.ok(
      manager,
      `mutation ($item: ID!, $cls: ID!) { relabel(itemId: $item, labelClassId: $cls, reason: "seen") { id } }`,
      { item: c!.id, cls: classes[0]!.id },
    );
    expect(await proposed(b!.id)).toEqual(pool(a));
  });

  it('managers keep near-duplicates out of label selection with a setting', async () => {
    const SET = `mutation ($slug: String!) {
      updateProjectSettings(project: $slug, input: { skipNearDuplicates: true }) { skipNearDuplicates } }`;
    expect((await api.ok(manager, SET, { slug })).updateProjectSettings).toEqual({
      skipNearDuplicates: true,
    });
  });
});
