import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedProject, type TestDatabase } from '@beanstalk/testing';

describe('switching a project to another encoder', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const encoder = (name: string, projectId: string | null = null) =>
    db.db.encoders.create({
      name,
      projectId,
      onnxBlobKey: 'x',
      sidecar: {},
      inputWidth: 28,
      inputHeight: 28,
      channels: 1,
      dims: 4,
    });

  it('waits for a running round, needs every item embedded, then retires the old heads in one step; labels stay and old heads cannot come back', async () => {
    const seeded = await seedProject(db.db, { items: 6 });
    const repos = db.db;
    const old = await encoder('old-encoder');
    const fresh = await encoder('fresh-encoder', seeded.projectId);
    await repos.projects.setEncoderIfNone(seeded.projectId, old.id);
    const head = await db.prisma.headVersion.create({
      data: {
        projectId: seeded.projectId,
        encoderVersionId: old.id,
        kind: 'LINEAR',
        inputDims: 4,
        outputDims: 4,
        weights: Buffer.alloc(0),
        status: 'ACTIVE',
      },
    });
    await db.prisma.project.update({
      where: { id: seeded.projectId },
      data: { activeHeadVersionId: head.id },
    });
    await db.prisma.label.create({
      data: {
        projectId: seeded.projectId,
        itemId: seeded.itemIds[0]!,
        labelClassId: seeded.classIds[0]!,
        source: 'HUMAN',
      },
    });
    const round = await db.prisma.round.create({
      data: { projectId: seeded.projectId, number: 1, status: 'LABELING' },
    });

    await expect(repos.projects.switchEncoder(seeded.projectId, fresh.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'ROUND_RUNNING' },
    });
    await db.prisma.round.update({ where: { id: round.id }, data: { status: 'COMPLETED' } });

    const feature = [1, 0, 0, 0];
    await repos.features.insert(
      fresh.id,
      seeded.itemIds.slice(1).map((itemId) => ({ itemId, feature })),
    );
    await expect(repos.projects.switchEncoder(seeded.projectId, fresh.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'NOT_EMBEDDED', missing: 1 },
    });
    // Nothing changed by the refused attempts.
    expect((await repos.projects.get(seeded.projectId)).encoderVersionId).toBe(old.id);

    await repos.features.insert(fresh.id, [{ itemId: seeded.itemIds[0]!, feature }]);
    expect(await repos.projects.switchEncoder(seeded.projectId, fresh.id)).toBe(old.id);
    const after = await repos.projects.get(seeded.projectId);
    expect(after).toMatchObject({ encoderVersionId: fresh.id, activeHeadVersionId: null });
    expect((await repos.heads.get(head.id)).status).toBe('RETIRED');
    expect(await db.prisma.label.count({ where: { projectId: seeded.projectId } })).toBe(1);
    // A head of the old encoder is never served beside the new encoder's features.
    await expect(repos.heads.promote(head.id, { note: 'back' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('trained on encoder'),
    });
    // Both encoders are the project's; switching again is a no-op.
    expect((await repos.encoders.ofProject(seeded.projectId)).map((e) => e.name).sort()).toEqual([
      'fresh-encoder',
      'old-encoder',
    ]);
    expect(await repos.projects.switchEncoder(seeded.projectId, fresh.id)).toBe(fresh.id);
  });
});
