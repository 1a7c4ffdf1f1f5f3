import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuActivities, createOrchestrationActivities } from '@beanstalk/activities';
import { initialWeights, serializeHead } from '@beanstalk/ml';
import { startHarness, type Harness } from './harness.ts';

describe('a promoted head whose search index is not built yet', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ limit: 300, budget: 0 });
    await h.ingestAll();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A head with random weights, its vector set written by the reindex activity, promoted. */
  async function promotedHead(seed: number): Promise<string> {
    const repos = h.db.db;
    const { encoderVersionId } = await repos.projects.get(h.projectId);
    const weights = initialWeights({
      kind: 'mlp',
      inputDims: 128,
      outputDims: 128,
      hiddenDims: 64,
      seed,
    });
    const { bytes, shapes } = serializeHead(weights);
    const head = await repos.heads.create({
      projectId: h.projectId,
      encoderVersionId: encoderVersionId!,
      kind: 'MLP',
      inputDims: 128,
      outputDims: 128,
      weights: new Uint8Array(bytes),
      config: { shapes },
    });
    const gpu = createGpuActivities(h.activities);
    await new MockActivityEnvironment().run(gpu.reindexHead, { headVersionId: head.id });
    await repos.heads.promote(head.id, { note: 'test' });
    return head.id;
  }

  const project = () => h.db.db.projects.get(h.projectId);

  it('new items go into both sets; the build moves searches; a replaced head is not built', async () => {
    const repos = h.db.db;
    const orchestration = createOrchestrationActivities(h.activities);
    const index = (headVersionId: string) =>
      new MockActivityEnvironment().run(orchestration.indexHeadForSearch, {
        headVersionId,
      }) as ReturnType<typeof orchestration.indexHeadForSearch>;

    const first = await promotedHead(1);
    expect((await index(first)).searchable).toBe(true);
    const second = await promotedHead(2);
    expect(await project()).toMatchObject({
      activeHeadVersionId: second,
      searchHeadVersionId: first,
    });

    // An item embedded now (its features and vectors removed, as if it had just arrived) lands
    // in the active set and in the set searches use meanwhile.
    const item = (await h.db.prisma.item.findFirstOrThrow({ where: { projectId: h.projectId } }))
      .id;
    await h.db.pool.query('DELETE FROM item_vectors WHERE item_id = $1', [item]);
    await h.db.pool.query('DELETE FROM item_features WHERE item_id = $1', [item]);
    const gpu = createGpuActivities(h.activities);
    const embedded = (await new MockActivityEnvironment().run(gpu.embedItems, {
      projectId: h.projectId,
      after: null,
      limit: 1000,
    })) as Awaited<ReturnType<typeof gpu.embedItems>>;
    expect(embedded.embedded).toBe(1);
    for (const head of [first, second]) {
      expect((await repos.vectorSets.vectorsOf(head, [item])).has(item)).toBe(true);
    }

    // A head replaced before its build gets none; the active one's build moves searches to it.
    const third = await promotedHead(3);
    expect(await index(second)).toEqual({ searchable: false, seconds: 0 });
    expect(await repos.vectorSets.searchIndexState(second)).toBe('none');
    expect((await project()).searchHeadVersionId).toBe(first);
    expect((await index(third)).searchable).toBe(true);
    expect((await project()).searchHeadVersionId).toBe(third);
    expect(await repos.vectorSets.searchIndexState(third)).toBe('ready');
  });
});
