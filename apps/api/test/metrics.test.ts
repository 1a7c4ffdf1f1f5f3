import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Api } from './harness.ts';

describe('rounds, metrics and search for managers', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let manager: { id: string; cookie: string };
  const slug = 'fm-metrics';

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 300, labeled: 100, slug });
    manager = await api.user('manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
  });
  afterAll(() => api?.stop());

  it('precision-recall points come from predictions made before their human labels', async () => {
    // 40 predicted items get a human label: the truth, so some agree with the prediction.
    const predictions = await api.db.prisma.prediction.findMany({
      where: { headVersionId: seeded.headVersionId },
      orderBy: { itemId: 'asc' },
      take: 40,
    });
    const truth = new Map(seeded.items.map((i) => [i.id, i.hiddenClassId!]));
    for (const p of predictions) {
      await api.db.prisma.label.create({
        data: {
          projectId: seeded.projectId,
          itemId: p.itemId,
          labelClassId: truth.get(p.itemId)!,
          source: 'HUMAN',
          annotatorId: manager.id,
        },
      });
    }
    const data = await api.ok(
      manager,
      `query { metrics(project: "${slug}") { precisionRecall { threshold precision recall count } } }`,
    );
    const points = data.metrics.precisionRecall as {
      threshold: number;
      precision: number;
      recall: number;
      count: number;
    }[];
    expect(points.length).toBeGreaterThan(1);
    const lowest = points.at(-1)!;
    const correct = predictions.filter((p) => p.labelClassId === truth.get(p.itemId)).length;
    expect(lowest.recall).toBe(1);
    expect(lowest.precision).toBeCloseTo(correct / 40, 10);
    const labeled = new Set(predictions.map((p) => p.itemId));
    const all = await api.db.prisma.prediction.findMany({
      where: { headVersionId: seeded.headVersionId },
    });
    for (const point of points) {
      const expected = all.filter(
        (p) => !labeled.has(p.itemId) && p.confidence >= point.threshold,
      ).length;
      expect(point.count).toBe(expected);
    }
    // Thresholds descend, so the auto-labeled count can only grow.
    for (let i = 1; i < points.length; i++) {
      expect(points[i]!.threshold).toBeLessThan(points[i - 1]!.threshold);
      expect(points[i]!.count).toBeGreaterThanOrEqual(points[i - 1]!.count);
    }
  });

  it('metric snapshots over rounds with per-class figures, and round progress', async () => {
    const classes = await api.db.prisma.labelClass.findMany({
      where: { projectId: seeded.projectId },
      orderBy: { position: 'asc' },
    });
    for (const [number, macroF1] of [
      [1, 0.61],
      [2, 0.72],
    ] as const) {
      const round = await api.db.prisma.round.create({
        data: { projectId: seeded.projectId, number, status: 'COMPLETED', endedAt: new Date() },
      });
      await api.db.prisma.metricSnapshot.create({
        data: {
          projectId: seeded.projectId,
          roundId: round.id,
          humanLabels: number * 100,
          macroF1,
          microF1: macroF1,
          accuracy: macroF1,
          details: {
            // The first round had too few eval items labeled by people: a simulated figure.
            truth: number === 1 ? 'simulated' : 'human',
            evaluated: number === 1 ? 300 : 80,
            perClass: classes.map((_, i) => ({
              precision: i / 10,
              recall: 0.5,
              f1: 0.4,
              support: 10,
            })),
            confusion: classes.map((_, i) => classes.map((__, j) => (i === j ? 9 : 0))),
          },
        },
      });
    }
    // A round whose workflow is gone: progress is null, answered within the deadline.
    await api.db.prisma.round.create({
      data: {
        projectId: seeded.projectId,
        number: 3,
        status: 'LABELING',
        workflowId: 'round-gone',
      },
    });
    const started = Date.now();
    const data = await api.ok(
      manager,
      `query { metrics(project: "${slug}") { snapshots { roundNumber humanLabels macroF1 truth evaluated }
          latest { perClass { labelClass { name } precision } confusion } }
        rounds(project: "${slug}") { number status progress { phase } metrics { macroF1 } } }`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(data.metrics.snapshots).toEqual([
      { roundNumber: 1, humanLabels: 100, macroF1: 0.61, truth: 'SIMULATED', evaluated: 300 },
      { roundNumber: 2, humanLabels: 200, macroF1: 0.72, truth: 'HUMAN', evaluated: 80 },
    ]);
    expect(data.metrics.latest.perClass[3]).toEqual({
      labelClass: { name: classes[3]!.name },
      precision: 0.3,
    });
    expect(data.metrics.latest.confusion[2][2]).toBe(9);
    expect(
      data.rounds.map((r: any) => [r.number, r.status, r.progress, r.metrics?.macroF1 ?? null]),
    ).toEqual([
      [3, 'LABELING', null, null],
      [2, 'COMPLETED', null, 0.72],
      [1, 'COMPLETED', null, 0.61],
    ]);
  });

  it('auto labels are checked against hidden truth only in a simulation project, which says it is one', async () => {
    const round = await api.db.prisma.round.create({
      data: {
        projectId: seeded.projectId,
        number: 4,
        status: 'COMPLETED',
        autoAccepted: 4,
        budgetAsked: 40,
        evalAsked: 10,
        endedAt: new Date(),
      },
    });
    const labeledIds = new Set(
      (
        await api.db.prisma.label.findMany({
          where: { projectId: seeded.projectId },
          select: { itemId: true },
        })
      ).map((l) => l.itemId),
    );
    const unlabeled = seeded.items
      .filter((i) => i.split === 'POOL' && !labeledIds.has(i.id))
      .slice(0, 4);
    const other = (classId: string) =>
      seeded.items.find((i) => i.hiddenClassId !== classId)!.hiddenClassId!;
    for (const [n, item] of unlabeled.entries()) {
      await api.db.prisma.label.create({
        data: {
          projectId: seeded.projectId,
          itemId: item.id,
          roundId: round.id,
          source: 'AUTO',
          confidence: 0.99,
          // Three right, one wrong.
          labelClassId: n === 0 ? other(item.hiddenClassId!) : item.hiddenClassId!,
        },
      });
    }
    const query = `query { project(slug: "${slug}") { simulation evalLabelsNeeded evalLabelTarget }
      round(id: "${round.id}") { budgetAsked evalAsked autoTruePrecisionSimulated } }`;
    expect(await api.ok(manager, query)).toEqual({
      project: { simulation: true, evalLabelsNeeded: 50, evalLabelTarget: 200 },
      round: { budgetAsked: 40, evalAsked: 10, autoTruePrecisionSimulated: 0.75 },
    });
    await api.db.prisma.project.update({
      where: { id: seeded.projectId },
      data: { simulation: false },
    });
    try {
      const real = await api.ok(manager, query);
      expect(real.project.simulation).toBe(false);
      expect(real.round.autoTruePrecisionSimulated).toBeNull();
    } finally {
      await api.db.prisma.project.update({
        where: { id: seeded.projectId },
        data: { simulation: true },
      });
    }
  });

  it('the eval target is a setting with its own field error', async () => {
    const admin = await api.user('admin-eval@example.com', {
      projectId: seeded.projectId,
      role: 'ADMIN',
    });
    const mutation = `mutation ($n: Int!) { updateProjectSettings(project: "${slug}", input: { evalLabelTarget: $n }) { evalLabelTarget } }`;
    const refused = await api.gql(admin, mutation, { n: -1 });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: { evalLabelTarget: 'evalLabelTarget must be 0..100000' },
    });
    const data = await api.ok(admin, mutation, { n: 120 });
    expect(data.updateProjectSettings.evalLabelTarget).toBe(120);
    await api.ok(admin, mutation, { n: 200 });
  });

  it('similar items to a stored item leave the item out and stay in the project', async () => {
    const item = seeded.items.find((i) => i.split === 'POOL')!;
    const data = await api.ok(
      manager,
      `query ($id: ID!) { similar(project: "${slug}", itemId: $id, k: 6, filter: { labeled: true }) { distance item { id } labelSource } }`,
      { id: item.id },
    );
    expect(data.similar).toHaveLength(6);
    const ids = data.similar.map((n: any) => n.item.id);
    expect(ids).not.toContain(item.id);
    const ours = new Set(seeded.items.map((i) => i.id));
    expect(ids.every((id: string) => ours.has(id))).toBe(true);
    expect(new Set(data.similar.map((n: any) => n.labelSource))).not.toContain(null);
  });

  it('the embedding map projects a sample of the vectors to 2-D and its selection filters the grid', async () => {
    const data = await api.ok(
      manager,
      `query { embeddingMap(project: "${slug}", limit: 250) { total explained points { itemId x y labelClassId predictedClassId } } }`,
    );
    const map = data.embeddingMap;
    expect(map.total).toBe(600);
    // Every third item (ceil(600 / 250) = 3): an even sample, never over the limit.
    expect(map.points.length).toBe(200);
    expect(map.explained).toBeGreaterThan(0);
    expect(map.explained).toBeLessThanOrEqual(1);
    const xs = map.points.map((p: any) => p.x);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(0);
    // Same sample every time.
    const again = await api.ok(
      manager,
      `query { embeddingMap(project: "${slug}", limit: 250) { points { itemId } } }`,
    );
    expect(again.embeddingMap.points.map((p: any) => p.itemId)).toEqual(
      map.points.map((p: any) => p.itemId),
    );
    const ids = map.points.slice(0, 7).map((p: any) => p.itemId);
    const grid = await api.ok(
      manager,
      `query ($ids: [ID!]) { items(project: "${slug}", filter: { ids: $ids }) { totalCount edges { node { id } } } }`,
      {
        ids: [...ids, 'not-a-uuid'],
      },
    );
    expect(grid.items.totalCount).toBe(7);
    expect(new Set(grid.items.edges.map((e: any) => e.node.id))).toEqual(new Set(ids));
  });
});
