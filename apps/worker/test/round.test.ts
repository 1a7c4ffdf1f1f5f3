import { Worker } from '@temporalio/worker';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grayToPng, writeItems } from '@beanstalk/ingest';
import { decodeSimplePng } from '@beanstalk/ml';
import { startRound } from '@beanstalk/orchestration';
import { roundProgress, type RoundResult } from '@beanstalk/workflows';
import { startHarness, type Harness } from './harness.ts';

const require = createRequire(import.meta.url);

/** A fixed unit query vector (no randomness in tests). */
const QUERY = (() => {
  const v = Array.from({ length: 128 }, (_, i) => Math.sin(i * 1.7) + 0.1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
})();

describe('active-learning rounds on real Temporal, Postgres and the real encoder', () => {
  let h: Harness;
  const results: RoundResult[] = [];
  const workflowIds: string[] = [];
  // A webhook receiver on loopback: the events rounds send, in the order they arrive.
  const events: { type: string; data: any }[] = [];
  let receiver: Server;
  /** Near-copies put in on purpose, and the item each copies. */
  const copies = new Map<string, string>();
  /** Labels imported wrong on purpose, and the class each item really is. */
  const wrong = new Map<string, string>();

  beforeAll(async () => {
    h = await startHarness({ limit: 2000, budget: 250 });
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        events.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    await h.db.db.webhooks.create({
      projectId: h.projectId,
      url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`,
      description: '',
      events: ['ROUND_OPENED', 'ROUND_COMPLETED', 'HEAD_PROMOTED', 'LABELS_FLAGGED', 'BUDGET_LOW'],
      budgetBelow: 200,
      createdById: null,
    });
    // With 100 then 250 labels, a retrained head can score below the old head re-evaluated
    // with the new labels as references by more than the default 0.005, and is then rightly
    // kept back (seen once in a fresh-clone CI run; the gap was not recorded). This test is
    // about the promotion path, so it allows a wider margin.
    await h.db.prisma.project.update({
      where: { id: h.projectId },
      data: { promotionTolerance: 0.05 },
    });
    // A labeled eval set, as a team would give it (here from the simulation's truth): what
    // every round is evaluated on, and what auto-accept measures its precision on.
    const evalItems = await h.db.prisma.item.findMany({
      where: { projectId: h.projectId, split: 'EVAL' },
      include: { hiddenTruth: true },
      orderBy: { contentHash: 'asc' },
      take: 600,
    });
    await h.db.prisma.label.createMany({
      data: evalItems.map((item) => ({
        projectId: h.projectId,
        itemId: item.id,
        labelClassId: item.hiddenTruth!.labelClassId,
        source: 'IMPORT' as const,
      })),
    });
    // Three gold images imported again a little brighter (other bytes, so not exact
    // duplicates), for the near-duplicate check after the ingest to find.
    const originals = await h.db.prisma.item.findMany({
      where: { projectId: h.projectId, split: 'POOL' },
      orderBy: { contentHash: 'asc' },
      take: 3,
    });
    const result = await writeItems(
      { db: h.db.db, blobs: h.activities.blobs },
      h.projectId,
      await Promise.all(
        originals.map(async (item) => {
          const png = decodeSimplePng(await h.activities.blobs.get(item.blobKey), 28 * 28)!;
          const brighter = png.data.map((v) => Math.min(255, Math.round(v * 1.03)));
          const bytes = grayToPng(brighter, png.width, png.height);
          return {
            bytes,
            info: { mimeType: 'image/png', width: 28, height: 28, channels: 1 },
            split: 'GOLD' as const,
            sourceRef: `copy of ${item.sourceRef}`,
          };
        }),
      ),
    );
    expect(result.imported).toBe(3);
    for (const item of originals) {
      const copy = await h.db.prisma.item.findFirstOrThrow({
        where: { sourceRef: `copy of ${item.sourceRef}` },
      });
      copies.set(copy.id, item.id);
    }
    // Twelve gold items imported with the wrong class (the next one), for the label check to
    // find; gold labels are checked but neither trained nor evaluated on.
    const gold = await h.db.prisma.item.findMany({
      where: { projectId: h.projectId, split: 'EVAL' },
      include: { hiddenTruth: true },
      orderBy: { contentHash: 'asc' },
      skip: 600,
      take: 12,
    });
    const classes = await h.db.db.classes.ofProject(h.projectId);
    await h.db.prisma.item.updateMany({
      where: { id: { in: gold.map((i) => i.id) } },
      data: { split: 'GOLD' },
    });
    for (const item of gold) {
      const truth = classes.findIndex((c) => c.id === item.hiddenTruth!.labelClassId);
      const label = await h.db.db.labels.append({
        projectId: h.projectId,
        itemId: item.id,
        labelClassId: classes[(truth + 1) % classes.length]!.id,
        source: 'IMPORT',
        supersedesId: null,
      });
      wrong.set(label, item.hiddenTruth!.labelClassId);
    }
  });
  afterAll(async () => {
    receiver?.close();
    await h?.close();
  });

  it('ingest embeds every item once and reports progress; a re-run has nothing to do', async () => {
    const first = await h.ingestAll();
    expect(first).toMatchObject({ embedded: 4003, failedCount: 0, total: 4003, done: true });
    // The copies are found, each pointing at its original (Fashion-MNIST has near-identical
    // images of its own: more may be marked).
    expect(first.nearDuplicates).toBeGreaterThanOrEqual(copies.size);
    const marked = await h.db.prisma.item.findMany({ where: { id: { in: [...copies.keys()] } } });
    for (const copy of marked) expect(copy.nearDuplicateOf).toBe(copies.get(copy.id));
    expect(await h.db.prisma.item.count({ where: { duplicatesChecked: false } })).toBe(0);
    const second = await h.ingestAll();
    expect(second).toMatchObject({ embedded: 0, total: 0, nearDuplicates: 0, done: true });
    expect(await h.db.prisma.itemFeature.count()).toBe(4003);
  });

  it('cold start: tasks up to the round size (typiclust by default), labels in, head trained, indexed and promoted', async () => {
    await h.db.prisma.project.update({ where: { id: h.projectId }, data: { roundSize: 100 } });
    const handle = await startRound(h.client, { projectId: h.projectId }, 'cold', h.queues);
    workflowIds.push(handle.workflowId);
    let done = false;
    const labeling = h.label(() => done);
    const result = await handle.result().finally(() => (done = true));
    await labeling;
    results.push(result);
    expect(result).toMatchObject({ number: 1, asked: 100, received: 100, autoAccepted: 0 });
    expect(result.promoted).toBe(true);
    const project = await h.db.prisma.project.findUniqueOrThrow({ where: { id: h.projectId } });
    expect(project.activeHeadVersionId).toBe(result.headVersionId);
    // The project's default strategy, typiclust-margin, as it resolved with no pool labels yet.
    const round = await h.db.prisma.round.findUniqueOrThrow({ where: { id: result.roundId } });
    expect(round.selection).toBe('TYPICLUST');
    expect(await h.db.db.vectorSets.state(result.headVersionId)).toBe('published');
    // The first head answers searches at once; its HNSW index follows after the round.
    expect(project.searchHeadVersionId).toBe(result.headVersionId);
    await expect
      .poll(() => h.db.db.vectorSets.searchIndexState(result.headVersionId), { timeout: 30_000 })
      .toBe('ready');
    expect(
      await h.db.prisma.label.count({ where: { projectId: h.projectId, source: 'HUMAN' } }),
    ).toBe(100);
    const snapshot = await h.db.prisma.metricSnapshot.findFirstOrThrow({
      where: { roundId: result.roundId },
    });
    expect(snapshot).toMatchObject({ humanLabels: 100, headVersionId: result.headVersionId });
    expect(snapshot.macroF1).toBeCloseTo(result.macroF1!, 10);
    expect(snapshot.details).toMatchObject({ truth: 'human', evaluated: 600 });
    const progress = await handle.query(roundProgress);
    expect(progress.phases.map((p) => p.phase)).toEqual([
      'opening',
      'selecting',
      'labeling',
      'training',
      'reindexing',
      'evaluating',
      'checking-labels',
      'completed',
    ]);
    // The label check after the round: the wrong imports are found, most of them first in the
    // review order. (The labels people gave here are right; the clean labels flagged are of
    // classes the vote confuses, such as shirt and T-shirt: further down the queue.)
    const issues = await h.db.prisma.labelIssue.findMany({
      where: { projectId: h.projectId, status: 'OPEN' },
      orderBy: { score: 'desc' },
    });
    expect(progress.openLabelIssues).toBe(issues.length);
    const found = issues.filter((i) => wrong.has(i.labelId));
    const top = issues.slice(0, wrong.size).filter((i) => wrong.has(i.labelId));
    const rightSuggestions = found.filter((i) => i.suggestedClassId === wrong.get(i.labelId));
    console.log(
      `label check: ${issues.length} open issues among ${wrong.size + 700} labels, ${found.length} of ${wrong.size} wrong imports (${top.length} in the top ${wrong.size}), ${rightSuggestions.length} suggesting the true class`,
    );
    // 12 found and 10 in the top 12 when this was written with random cold starts; with
    // typiclust's, 7 to 10 in the top 12 from run to run while it clustered in item-id order
    // (ids are random), now 8 in every run (bench:data-quality measures the rates on 2000
    // labels). The suggestion is the neighbours' majority: for a shirt imported
    // as a pullover it may well say T-shirt, so it is a hint for the reviewer, measured there.
    expect(found.length).toBeGreaterThanOrEqual(10);
    expect(top.length).toBeGreaterThanOrEqual(8);
    expect(issues.every((i) => i.roundId === result.roundId)).toBe(true);
    // Webhooks: the round's opening first; at its end the promotion, the labels the check
    // flagged, the completion with its figures, and the budget warning (100 of 250 spent: 150
    // left, below the level of 200).
    await expect.poll(() => events.length, { timeout: 20_000 }).toBe(5);
    expect(events[0]).toMatchObject({ type: 'round.opened', data: { round: { number: 1 } } });
    const byType = Object.fromEntries(events.map((e) => [e.type, e.data]));
    expect(byType['round.completed']).toMatchObject({
      round: { id: result.roundId, received: 100, promoted: true, macroF1: result.macroF1 },
    });
    expect(byType['head.promoted']).toMatchObject({ head: { id: result.headVersionId } });
    // Every open issue was opened by this round's check.
    expect(byType['labels.flagged']).toEqual({
      round: { id: result.roundId, number: 1 },
      flagged: issues.length,
      openLabelIssues: issues.length,
    });
    expect(byType['budget.low']).toMatchObject({ budget: { total: 250, remaining: 150 } });
  });

  it('second round: asks no more than the budget left, auto-accepts as AUTO with confidence, improves eval macro-F1, and kNN answers throughout the swap', async () => {
    // With 100 human labels the most confident eval votes are right about 82% of the time:
    // 98% or 90% cannot be shown from 600 labeled eval items, 80% only just (it came and went
    // between runs); 70% is shown with room, so auto-accept acts in this round. The round asks
    // by the project's strategy setting (the default would still be typiclust: 100 pool labels).
    await h.db.prisma.project.update({
      where: { id: h.projectId },
      data: {
        roundSize: 200,
        autoAcceptPrecisionTarget: 0.7,
        selectionStrategy: 'MARGIN_DIVERSITY',
      },
    });
    const before = await h.db.db.budget.of(h.projectId);
    expect(before.remaining).toBe(150);
    const previousHead = results[0]!.headVersionId;
    // Continuous kNN queries against whatever head is active, all through the round.
    let querying = true;
    const answers: { itemId: string; distance: number }[][] = [];
    const queries = (async () => {
      while (querying) {
        answers.push(await h.db.db.knn.search({ projectId: h.projectId, embedding: QUERY, k: 10 }));
      }
    })();
    const handle = await startRound(h.client, { projectId: h.projectId }, 'second', h.queues);
    workflowIds.push(handle.workflowId);
    let done = false;
    const labeling = h.label(() => done);
    const result = await handle.result().finally(() => (done = true));
    await labeling;
    // Searches move to the new head once its index is built after the round, not before.
    await expect
      .poll(
        async () =>
          (await h.db.prisma.project.findUniqueOrThrow({ where: { id: h.projectId } }))
            .searchHeadVersionId,
        { timeout: 30_000 },
      )
      .toBe(result.headVersionId);
    expect(await h.db.db.vectorSets.searchIndexState(result.headVersionId)).toBe('ready');
    querying = false;
    await queries;
    results.push(result);

    expect(result.asked).toBe(150);
    expect(result.received).toBe(150);
    const after = await h.db.db.budget.of(h.projectId);
    expect(after).toMatchObject({ total: 250, spent: 250, reserved: 0, remaining: 0 });

    const auto = await h.db.prisma.label.findMany({
      where: { projectId: h.projectId, source: 'AUTO' },
    });
    expect(result.autoAccepted).toBeGreaterThan(0);
    expect(auto.length).toBe(result.autoAccepted);
    const round = await h.db.prisma.round.findUniqueOrThrow({ where: { id: result.roundId } });
    expect(round.selection).toBe('MARGIN_DIVERSITY');
    // The evidence cleared the target, and (this is a simulation: Fashion-MNIST's truth is
    // known) the auto labels are right at least as often as promised.
    expect(round.autoPrecisionBound).toBeGreaterThanOrEqual(0.7);
    const truth = await h.db.db.labels.autoTruthOfRound(round.id);
    expect(truth!.checked).toBe(auto.length);
    console.log(
      `auto-accept: ${auto.length} at >= ${round.autoThreshold?.toFixed(3)}, bound ${round.autoPrecisionBound?.toFixed(3)}, simulated true precision ${(truth!.right / truth!.checked).toFixed(3)}`,
    );
    expect(truth!.right / truth!.checked).toBeGreaterThanOrEqual(0.7);
    for (const label of auto) {
      expect(label.roundId).toBe(result.roundId);
      expect(label.confidence).toBeGreaterThanOrEqual(round.autoThreshold!);
      expect(label.annotatorId).toBeNull();
      expect(label.taskId).toBeNull();
    }
    // The eval items voted on as confidently are set aside from later calibration: some, not
    // all, and eval items only.
    const spent = await h.db.db.rounds.spentCalibration(h.projectId);
    const evalItems = await h.db.prisma.item.findMany({
      where: { projectId: h.projectId, split: 'EVAL' },
      select: { id: true },
    });
    const evalIds = new Set(evalItems.map((i) => i.id));
    expect(spent.size).toBeGreaterThan(0);
    expect(spent.size).toBeLessThan(evalIds.size);
    expect([...spent].every((id) => evalIds.has(id))).toBe(true);

    expect(result.macroF1).toBeGreaterThan(results[0]!.macroF1!);
    expect(result.promoted).toBe(true);
    // The budget warning came once for this ledger total, not again now that nothing is left.
    await expect
      .poll(() => events.filter((e) => e.type === 'round.completed').length, { timeout: 20_000 })
      .toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(events.filter((e) => e.type === 'budget.low')).toHaveLength(1);

    // Every answer came from exactly one head's vectors: its distances match that head's.
    expect(answers.length).toBeGreaterThan(0);
    const heads = [previousHead, result.headVersionId];
    const stored = await Promise.all(
      heads.map((head) =>
        h.db.db.vectorSets.vectorsOf(head, [...new Set(answers.flat().map((n) => n.itemId))]),
      ),
    );
    const cosine = (v: Float32Array) => 1 - v.reduce((s, x, i) => s + x * QUERY[i]!, 0);
    for (const answer of answers) {
      expect(answer).toHaveLength(10);
      const matches = stored.filter((vectors) =>
        answer.every(
          (n) =>
            vectors.has(n.itemId) && Math.abs(cosine(vectors.get(n.itemId)!) - n.distance) < 1e-4,
        ),
      );
      expect(matches.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('auto labels of a round can be reverted: history kept, items unlabeled again, budget untouched', async () => {
    const round = results[1]!;
    const budget = await h.db.db.budget.of(h.projectId);
    const reverted = await h.db.db.labels.revertAutoOfRound({ roundId: round.roundId });
    expect(reverted).toBe(round.autoAccepted);
    const items = (
      await h.db.prisma.label.findMany({ where: { roundId: round.roundId, source: 'AUTO' } })
    ).map((l) => l.itemId);
    const current = await h.db.db.labels.current(items);
    expect([...current.values()].every((l) => l.labelClassId === null)).toBe(true);
    expect(
      await h.db.prisma.label.count({ where: { roundId: round.roundId, source: 'AUTO' } }),
    ).toBe(2 * round.autoAccepted);
    const copies = await h.db.prisma.itemVector.count({
      where: { headVersionId: round.headVersionId, itemId: { in: items }, labelClassId: null },
    });
    expect(copies).toBe(new Set(items).size);
    expect(await h.db.db.budget.of(h.projectId)).toEqual(budget);
    expect(await h.db.db.labels.revertAutoOfRound({ roundId: round.roundId })).toBe(0);
  });

  it('recorded histories replay deterministically', async () => {
    for (const workflowId of workflowIds) {
      const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory(
        { workflowsPath: require.resolve('@beanstalk/workflows') },
        history,
        workflowId,
      );
    }
  });
});
