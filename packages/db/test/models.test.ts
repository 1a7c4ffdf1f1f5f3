import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';

describe('data model', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('creates and reads back every model', async () => {
    const { prisma } = db;
    const user = await prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } });
    const project = await prisma.project.create({ data: { slug: 'beans', name: 'Beans' } });
    await prisma.membership.create({
      data: { userId: user.id, projectId: project.id, role: 'ANNOTATOR' },
    });
    await prisma.session.create({
      data: { userId: user.id, tokenHash: 'h1', expiresAt: new Date(Date.now() + 3600_000) },
    });
    await prisma.apiKey.create({
      data: {
        projectId: project.id,
        role: 'INTEGRATOR',
        name: 'ci',
        prefix: 'bk_12',
        keyHash: 'k1',
      },
    });
    const good = await prisma.labelClass.create({
      data: { projectId: project.id, name: 'good', position: 0, hotkey: '1' },
    });
    const bad = await prisma.labelClass.create({
      data: { projectId: project.id, name: 'broken', position: 1, isNormal: false },
    });
    const item = await prisma.item.create({
      data: {
        projectId: project.id,
        contentHash: 'a'.repeat(64),
        blobKey: 'a'.repeat(64),
        mimeType: 'image/png',
        width: 28,
        height: 28,
        channels: 1,
        metadata: { camera: 2 },
      },
    });
    await prisma.hiddenTruth.create({ data: { itemId: item.id, labelClassId: bad.id } });
    const encoder = await prisma.encoderVersion.create({
      data: {
        name: 'enc-1',
        onnxBlobKey: 'b'.repeat(64),
        sidecar: { input: [1, 28, 28] },
        inputWidth: 28,
        inputHeight: 28,
        channels: 1,
        dims: 256,
      },
    });
    const campaign = await prisma.campaign.create({
      data: { projectId: project.id, workflowId: 'wf-c1' },
    });
    const round = await prisma.round.create({
      data: {
        projectId: project.id,
        campaignId: campaign.id,
        number: 1,
        budgetAsked: 10,
        workflowId: 'wf-r1',
      },
    });
    const head = await prisma.headVersion.create({
      data: {
        projectId: project.id,
        encoderVersionId: encoder.id,
        roundId: round.id,
        kind: 'MLP',
        inputDims: 256,
        outputDims: 128,
        weights: Buffer.from(new Float32Array([1, 2]).buffer),
      },
    });
    const task = await prisma.labelTask.create({
      data: { projectId: project.id, roundId: round.id, itemId: item.id, priority: 0.9 },
    });
    await prisma.label.create({
      data: {
        projectId: project.id,
        itemId: item.id,
        labelClassId: good.id,
        source: 'HUMAN',
        annotatorId: user.id,
        roundId: round.id,
        taskId: task.id,
      },
    });
    await prisma.prediction.create({
      data: {
        headVersionId: head.id,
        itemId: item.id,
        roundId: round.id,
        labelClassId: good.id,
        confidence: 0.8,
        margin: 0.6,
        entropy: 0.3,
        anomalyScore: 0.1,
        probabilities: [0.8, 0.2],
      },
    });
    await prisma.budgetEvent.create({
      data: { projectId: project.id, amount: 600, reason: 'initial', userId: user.id },
    });
    await prisma.metricSnapshot.create({
      data: {
        projectId: project.id,
        roundId: round.id,
        headVersionId: head.id,
        humanLabels: 1,
        macroF1: 0.5,
        microF1: 0.6,
        accuracy: 0.6,
        details: {
          confusion: [
            [1, 0],
            [0, 0],
          ],
        },
      },
    });
    await prisma.importRun.create({ data: { projectId: project.id, source: 'test' } });
    // Vector columns are Unsupported in Prisma: written with SQL, read with Prisma.
    await db.pool.query(
      `INSERT INTO item_features (encoder_version_id, item_id, feature) VALUES ($1, $2, $3)`,
      [encoder.id, item.id, `[${Array(256).fill(0.5).join(',')}]`],
    );

    const full = await prisma.project.findUniqueOrThrow({
      where: { id: project.id },
      include: {
        memberships: true,
        apiKeys: true,
        labelClasses: true,
        items: true,
        headVersions: true,
        labels: true,
        tasks: true,
        rounds: true,
        campaigns: true,
        budgetEvents: true,
        metricSnapshots: true,
        imports: true,
      },
    });
    expect(full.memberships[0]!.role).toBe('ANNOTATOR');
    expect(full.apiKeys[0]!.prefix).toBe('bk_12');
    expect(full.labelClasses.map((c) => [c.name, c.isNormal])).toEqual([
      ['good', true],
      ['broken', false],
    ]);
    expect(full.items[0]!.metadata).toEqual({ camera: 2 });
    expect(full.headVersions[0]!.weights.length).toBe(8);
    expect(full.labels[0]!.source).toBe('HUMAN');
    expect(full.tasks[0]!.status).toBe('OPEN');
    expect(full.rounds[0]!.status).toBe('PENDING');
    expect(full.campaigns[0]!.status).toBe('RUNNING');
    expect(full.budgetEvents[0]!.amount).toBe(600);
    expect(full.metricSnapshots[0]!.details).toEqual({
      confusion: [
        [1, 0],
        [0, 0],
      ],
    });
    expect(full.imports[0]!.status).toBe('RUNNING');
    expect(
      await prisma.user.findUnique({
        where: { email: 'ann@example.com' },
        include: { sessions: true },
      }),
    ).toMatchObject({ name: 'Ann', sessions: [{ tokenHash: 'h1' }] });
    expect(await prisma.hiddenTruth.findUnique({ where: { itemId: item.id } })).toMatchObject({
      labelClassId: bad.id,
    });
    expect(await prisma.prediction.findFirst({ where: { itemId: item.id } })).toMatchObject({
      probabilities: [0.8, 0.2],
    });
    expect(await prisma.itemFeature.count({ where: { encoderVersionId: encoder.id } })).toBe(1);
    expect(
      (await prisma.round.findUnique({ where: { id: round.id }, include: { headVersion: true } }))
        ?.headVersion?.id,
    ).toBe(head.id);
  });
});

describe('label history', () => {
  let db: TestDatabase;
  let projectId: string;
  let itemId: string;
  let classes: string[];
  beforeAll(async () => {
    db = await createTestDatabase();
    const project = await db.prisma.project.create({ data: { slug: 'h', name: 'h' } });
    projectId = project.id;
    classes = [];
    for (const [i, name] of ['cat', 'dog'].entries()) {
      classes.push(
        (await db.prisma.labelClass.create({ data: { projectId, name, position: i } })).id,
      );
    }
    itemId = (
      await db.prisma.item.create({
        data: {
          projectId,
          contentHash: 'x',
          blobKey: 'x',
          mimeType: 'image/png',
          width: 1,
          height: 1,
          channels: 1,
        },
      })
    ).id;
  });
  afterAll(() => db.drop());

  it('keeps every label: a relabel appends a row that supersedes the current one', async () => {
    const first = await db.db.labels.append({
      projectId,
      itemId,
      labelClassId: classes[0]!,
      source: 'AUTO',
      confidence: 0.99,
      supersedesId: null,
    });
    const second = await db.db.labels.append({
      projectId,
      itemId,
      labelClassId: classes[1]!,
      source: 'HUMAN',
      reason: 'it barks',
      supersedesId: first,
    });
    const history = await db.prisma.label.findMany({
      where: { itemId },
      orderBy: { createdAt: 'asc' },
      include: { supersededBy: true },
    });
    expect(history.map((l) => l.labelClassId)).toEqual([classes[0], classes[1]]);
    expect(history[0]!.supersededBy?.id).toBe(second);
    expect((await db.db.labels.current([itemId])).get(itemId)).toMatchObject({
      id: second,
      labelClassId: classes[1],
      source: 'HUMAN',
    });
  });

  it('refuses UPDATE and DELETE of a label', async () => {
    const label = await db.prisma.label.findFirstOrThrow({ where: { itemId } });
    await expect(
      db.prisma.label.update({ where: { id: label.id }, data: { source: 'GOLD' } }),
    ).rejects.toThrow(/append-only/);
    await expect(db.pool.query('DELETE FROM labels WHERE id = $1', [label.id])).rejects.toThrow(
      /append-only/,
    );
    expect(await db.prisma.label.count({ where: { itemId } })).toBe(2);
  });

  it('refuses a second first label and a stale relabel instead of overwriting', async () => {
    await expect(
      db.db.labels.append({
        projectId,
        itemId,
        labelClassId: classes[0]!,
        source: 'HUMAN',
        supersedesId: null,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    const oldest = (
      await db.prisma.label.findFirstOrThrow({ where: { itemId }, orderBy: { createdAt: 'asc' } })
    ).id;
    await expect(
      db.db.labels.append({
        projectId,
        itemId,
        labelClassId: classes[0]!,
        source: 'HUMAN',
        supersedesId: oldest,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await db.prisma.label.count({ where: { itemId } })).toBe(2);
  });

  it('lets exactly one of two concurrent relabels land', async () => {
    const current = (await db.db.labels.current([itemId])).get(itemId)!.id;
    const results = await Promise.allSettled(
      classes.map((c) =>
        db.db.labels.append({
          projectId,
          itemId,
          labelClassId: c,
          source: 'HUMAN',
          supersedesId: current,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason.code),
    ).toEqual(['CONFLICT']);
  });

  it('refuses to supersede a label of another item', async () => {
    const other = await db.prisma.item.create({
      data: {
        projectId,
        contentHash: 'y',
        blobKey: 'y',
        mimeType: 'image/png',
        width: 1,
        height: 1,
        channels: 1,
      },
    });
    const current = (await db.db.labels.current([itemId])).get(itemId)!.id;
    await expect(
      db.db.labels.append({
        projectId,
        itemId: other.id,
        labelClassId: classes[0]!,
        source: 'HUMAN',
        supersedesId: current,
      }),
    ).rejects.toThrow(/not a label of the same item/);
  });

  it('still deletes a project with its whole history', async () => {
    await db.prisma.project.delete({ where: { id: projectId } });
    expect(await db.prisma.label.count({ where: { projectId } })).toBe(0);
  });
});
