import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrchestrationActivities } from '@beanstalk/activities';
import { loadConfig } from '@beanstalk/config';
import { inContentOrder, selectTypical, stackRows } from '@beanstalk/ml';
import { EncoderCache } from '@beanstalk/model-runtime';
import { LocalBlobStore } from '@beanstalk/storage';
import { createTestDatabase, seedIndexedFashionMnist, type TestDatabase } from '@beanstalk/testing';

/**
 * What a head is evaluated on: people's labels on eval items, never a handful of them; a
 * simulation's hidden truth only in a simulation project, and marked; and how rounds get the
 * eval labels a project lacks. The activities are called directly on a seeded project (a
 * published head, 100 imported pool labels, 300 eval items with hidden truth).
 */
describe('evaluation on people’s labels', () => {
  let db: TestDatabase;
  let dir: string;
  let encoders: EncoderCache;
  let acts: ReturnType<typeof createOrchestrationActivities>;
  let seeded: Awaited<ReturnType<typeof seedIndexedFashionMnist>>;
  let round = 0;
  const evalItems = () => seeded.items.filter((i) => i.split === 'EVAL');

  /** A round row to hang tasks and snapshots on. */
  async function openRound() {
    round++;
    return db.db.rounds.open({ projectId: seeded.projectId, workflowId: `eval-test-${round}` });
  }
  /** The fixture's head evaluated (and stored) in a new round. */
  async function evaluateInNewRound() {
    const { id: roundId } = await openRound();
    const evaluation = await acts.evaluateHead({
      roundId,
      headVersionId: seeded.headVersionId,
      k: 10,
      store: true,
    });
    return { roundId, evaluation };
  }
  async function setSimulation(simulation: boolean) {
    await db.prisma.project.update({ where: { id: seeded.projectId }, data: { simulation } });
  }
  /** The fixture's head as a fresh candidate: nothing active, so promotion decides. */
  async function deactivate() {
    await db.prisma.project.update({
      where: { id: seeded.projectId },
      data: { activeHeadVersionId: null },
    });
  }
  async function labelEval(items: { id: string; hiddenClassId: string | null }[]) {
    for (const item of items) {
      await db.db.labels.append({
        projectId: seeded.projectId,
        itemId: item.id,
        labelClassId: item.hiddenClassId!,
        source: 'IMPORT',
        supersedesId: null,
      });
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-eval-'));
    const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
    const modelsDir = path.join(dir, 'models');
    seeded = await seedIndexedFashionMnist(
      { db: db.db, blobs, modelsDir },
      { limit: 300, labeled: 100, budget: 100 },
    );
    encoders = new EncoderCache({ db: db.db, blobs }, { dir: modelsDir, threads: 2 });
    acts = createOrchestrationActivities({ config: loadConfig(), db: db.db, blobs, encoders });
  });
  afterAll(async () => {
    await encoders?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('one labeled eval item is not a sample of one: a simulation reads its hidden truth and says so', async () => {
    await labelEval(evalItems().slice(0, 1));
    const { roundId, evaluation } = await evaluateInNewRound();
    expect(evaluation).toMatchObject({ truth: 'simulated', evaluated: 300, needed: 50 });
    expect(evaluation.macroF1).toBeGreaterThan(0.3);
    const snapshot = await db.prisma.metricSnapshot.findFirstOrThrow({ where: { roundId } });
    expect(snapshot.details).toMatchObject({ truth: 'simulated', evaluated: 300, evalLabels: 1 });
    await deactivate();
    const decision = await acts.promoteHead({
      roundId,
      candidate: evaluation,
      active: null,
      tolerance: 0.005,
    });
    expect(decision.reason).toContain('simulated ground truth');
  });

  it('a real project with too few labeled eval items is not evaluated, and its head is promoted saying why', async () => {
    await setSimulation(false);
    const { roundId, evaluation } = await evaluateInNewRound();
    // The hidden truth is still in the table; a real project never reads it.
    expect(evaluation).toMatchObject({ truth: 'none', macroF1: null, evaluated: 0, needed: 50 });
    expect(await db.prisma.metricSnapshot.count({ where: { roundId } })).toBe(0);
    await deactivate();
    const decision = await acts.promoteHead({
      roundId,
      candidate: evaluation,
      active: { ...evaluation },
      tolerance: 0.005,
    });
    expect(decision).toEqual({
      promoted: true,
      reason: 'not evaluated: fewer than 50 eval items labeled by people; the newest head answers',
    });
  });

  it('from 5 labels per class on, people’s labels are the truth, in a simulation too', async () => {
    await setSimulation(true);
    await labelEval(evalItems().slice(1, 50));
    const { evaluation } = await evaluateInNewRound();
    expect(evaluation).toMatchObject({ truth: 'human', evaluated: 50 });
    expect(evaluation.macroF1).not.toBeNull();
  });

  it('rounds ask for a random eval sample, counted in the budget, until the target', async () => {
    await db.prisma.project.update({
      where: { id: seeded.projectId },
      data: { evalLabelTarget: 70 },
    });
    const first = await openRound();
    // 50 labeled, 70 wanted: a quarter of the round goes to eval items (20 of 80 asked).
    const opened = await acts.openTasks({
      roundId: first.id,
      headVersionId: seeded.headVersionId,
      count: 80,
      strategy: 'margin',
    });
    expect(opened).toEqual({ asked: 80, evalAsked: 20, budgetLeft: 20 });
    const tasks = await db.prisma.labelTask.findMany({
      where: { roundId: first.id },
      include: { item: true },
      orderBy: { priority: 'desc' },
    });
    const splits = tasks.map((t) => t.item.split);
    expect(splits.filter((s) => s === 'EVAL')).toHaveLength(20);
    // Spread through the queue, not all at its end: the first 20 tasks hold some of them.
    const early = splits.slice(0, 20).filter((s) => s === 'EVAL').length;
    expect(early).toBeGreaterThanOrEqual(4);
    expect(early).toBeLessThanOrEqual(6);
    expect(tasks.every((t) => t.item.split === 'EVAL' || t.item.split === 'POOL')).toBe(true);
    const evalTasks = tasks.filter((t) => t.item.split === 'EVAL');
    const labeledBefore = new Set(
      evalItems()
        .slice(0, 50)
        .map((i) => i.id),
    );
    expect(evalTasks.some((t) => labeledBefore.has(t.itemId))).toBe(false);
    expect((await db.db.rounds.get(first.id)).evalAsked).toBe(20);
    // A retry returns what was opened.
    expect(
      await acts.openTasks({
        roundId: first.id,
        headVersionId: seeded.headVersionId,
        count: 80,
        strategy: 'margin',
      }),
    ).toEqual({ asked: 80, evalAsked: 20, budgetLeft: 20 });
    // 50 labeled and 20 asked reach the target: the next round asks the pool only.
    const second = await openRound();
    expect(
      await acts.openTasks({
        roundId: second.id,
        headVersionId: seeded.headVersionId,
        count: 20,
        strategy: 'margin',
      }),
    ).toEqual({ asked: 20, evalAsked: 0, budgetLeft: 0 });
  });

  it('typiclust asks for what selectTypical picks from the pool’s backbone features, labeled items counting as covered', async () => {
    await db.prisma.labelTask.updateMany({
      where: { projectId: seeded.projectId, status: 'OPEN' },
      data: { status: 'EXPIRED' },
    });
    // Only pool tasks here: no eval sample.
    await db.prisma.project.update({
      where: { id: seeded.projectId },
      data: { evalLabelTarget: 0 },
    });
    const round = await openRound();
    await acts.openTasks({
      roundId: round.id,
      headVersionId: null,
      count: 20,
      strategy: 'typiclust',
    });
    const tasks = await db.prisma.labelTask.findMany({ where: { roundId: round.id } });
    expect(new Set(tasks.map((t) => t.itemId))).toEqual(await typicalChoice(20, round.number));
    expect(tasks).toHaveLength(20);
  });

  it('typiclust-margin is typiclust while the head has under 15 labels a class, margin from there', async () => {
    const expireOpen = () =>
      db.prisma.labelTask.updateMany({
        where: { projectId: seeded.projectId, status: 'OPEN' },
        data: { status: 'EXPIRED' },
      });
    const opened = async (
      strategy: 'typiclust-margin' | 'margin',
      headVersionId: string | null = seeded.headVersionId,
    ) => {
      await expireOpen();
      const round = await openRound();
      await acts.openTasks({
        roundId: round.id,
        headVersionId,
        count: 20,
        strategy,
      });
      const tasks = await db.prisma.labelTask.findMany({ where: { roundId: round.id } });
      const { selection } = await db.prisma.round.findUniqueOrThrow({ where: { id: round.id } });
      return { round, items: new Set(tasks.map((t) => t.itemId)), selection };
    };
    // What the switch counts: the pool's training labels, only as far as asked.
    expect(await db.db.labels.countForTraining(seeded.projectId, 1000)).toBe(
      (await db.db.labels.forTraining(seeded.projectId)).length,
    );
    expect(await db.db.labels.countForTraining(seeded.projectId, 90)).toBe(90);
    // 100 training labels, 10 classes: under 150, so typiclust (with a head or not).
    const early = await opened('typiclust-margin');
    expect(early.items).toEqual(await typicalChoice(20, early.round.number));
    expect(early.selection).toBe('TYPICLUST');
    // 6 active classes: 100 is over 90, so margin, as a margin round picks.
    const classes = await db.db.classes.ofProject(seeded.projectId);
    const retired = classes.slice(6).map((c) => c.id);
    await db.prisma.labelClass.updateMany({
      where: { id: { in: retired } },
      data: { retiredAt: new Date() },
    });
    try {
      const later = await opened('typiclust-margin');
      const margin = await opened('margin');
      expect(later.items).toEqual(margin.items);
      expect(later.items).not.toEqual(await typicalChoice(20, later.round.number));
      expect([later.selection, margin.selection]).toEqual(['MARGIN', 'MARGIN']);
      // Without a head there is no uncertainty to rank by: a random sample, recorded as such.
      expect((await opened('typiclust-margin', null)).selection).toBe('RANDOM');
    } finally {
      await db.prisma.labelClass.updateMany({
        where: { id: { in: retired } },
        data: { retiredAt: null },
      });
      await expireOpen();
    }
  });

  /** What selectTypical picks from the pool's features, read here: pool items only (not
   * eval), the 100 labeled ones as coverage, in the order their features set, the round's seed. */
  async function typicalChoice(count: number, seed: number): Promise<Set<string>> {
    const rows = inContentOrder(
      (
        await db.db.features.readPage({
          projectId: seeded.projectId,
          encoderVersionId: seeded.encoderVersionId,
          after: null,
          limit: 100_000,
        })
      ).filter((r) => r.split === 'POOL'),
    );
    expect(rows.filter((r) => r.labelClassId !== null).length).toBe(100);
    const dims = rows[0]!.vector.length;
    const picked = selectTypical(
      stackRows(
        rows.map((r) => r.vector),
        dims,
      ),
      dims,
      rows.map((r) => r.labelClassId !== null),
      count,
      seed,
    );
    return new Set(picked.map((i) => rows[i]!.itemId));
  }
});
