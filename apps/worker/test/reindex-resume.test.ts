import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuActivities } from '@beanstalk/activities';
import { initialWeights, project, serializeHead } from '@beanstalk/ml';
import { startHarness, type Harness } from './harness.ts';

describe('reindexing resumes after a crash', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ limit: 300, budget: 0 });
    await h.ingestAll();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a reindex that died after storing a page it never reported resumes with every item once', async () => {
    const repos = h.db.db;
    const project_ = await repos.projects.get(h.projectId);
    const weights = initialWeights({
      kind: 'mlp',
      inputDims: 128,
      outputDims: 128,
      hiddenDims: 256,
      seed: 5,
    });
    const { bytes, shapes } = serializeHead(weights);
    const head = await repos.heads.create({
      projectId: h.projectId,
      encoderVersionId: project_.encoderVersionId!,
      kind: 'MLP',
      inputDims: 128,
      outputDims: 128,
      weights: new Uint8Array(bytes),
      config: { shapes },
    });
    const activities = createGpuActivities(h.activities);

    // First attempt: the third page is stored, then its heartbeat fails, as when the worker
    // is killed between the two; the server only knows the second page's.
    const first = new MockActivityEnvironment();
    const reported: { after: string; written: number }[] = [];
    first.on('heartbeat', (details: { after: string; written: number }) => {
      if (reported.length === 2) throw new Error('worker killed');
      reported.push(details);
    });
    await expect(
      first.run(activities.reindexHead, { headVersionId: head.id, pageSize: 100 }),
    ).rejects.toThrow(/worker killed/);
    expect(await repos.vectorSets.state(head.id)).toBe('building');
    const stored = await h.db.pool.query(`SELECT count(*)::int AS n FROM "${setTable(head.id)}"`);
    expect(stored.rows[0].n).toBe(300);
    expect(reported.at(-1)!.written).toBe(200);

    const retry = new MockActivityEnvironment({ heartbeatDetails: reported.at(-1) });
    const written = await retry.run(activities.reindexHead, {
      headVersionId: head.id,
      pageSize: 100,
    });
    expect(written).toBe(600);
    expect(await repos.vectorSets.state(head.id)).toBe('published');
    const rows = await h.db.pool.query<{ n: number; items: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT item_id)::int AS items
         FROM item_vectors WHERE head_version_id = $1`,
      [head.id],
    );
    expect(rows.rows[0]).toEqual({ n: 600, items: 600 });
    // The stored vectors are the head's projection of each item's features.
    const features = await repos.features.of(
      project_.encoderVersionId!,
      (await h.db.prisma.item.findMany({ where: { projectId: h.projectId } })).map((i) => i.id),
    );
    const ids = [...features.keys()];
    const expected = project(
      weights,
      Float32Array.from(ids.flatMap((id) => Array.from(features.get(id)!))),
      ids.length,
    );
    const vectors = await repos.vectorSets.vectorsOf(head.id, ids);
    let worst = 0;
    ids.forEach((id, i) => {
      vectors.get(id)!.forEach((v, d) => {
        worst = Math.max(worst, Math.abs(v - expected[i * 128 + d]!));
      });
    });
    expect(worst).toBeLessThan(1e-5);
  });
});

const setTable = (headVersionId: string) => `item_vectors_${headVersionId.replaceAll('-', '')}`;
