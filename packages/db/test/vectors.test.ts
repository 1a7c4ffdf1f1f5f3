import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedProject, type TestDatabase } from '@beanstalk/testing';
import { VECTOR_DIMS, type VectorRow } from '../src/index.ts';

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitAxis(axis: number, wobble = 0): number[] {
  const v = new Array(VECTOR_DIMS).fill(0);
  v[axis] = 1;
  v[(axis + 1) % VECTOR_DIMS] = wobble;
  return v;
}

async function newHead(db: TestDatabase, projectId: string): Promise<string> {
  const encoder = await db.prisma.encoderVersion.upsert({
    where: { name: 'test-encoder' },
    create: {
      name: 'test-encoder',
      onnxBlobKey: 'x',
      sidecar: {},
      inputWidth: 28,
      inputHeight: 28,
      channels: 1,
      dims: 64,
    },
    update: {},
  });
  const head = await db.prisma.headVersion.create({
    data: {
      projectId,
      encoderVersionId: encoder.id,
      kind: 'LINEAR',
      inputDims: 64,
      outputDims: VECTOR_DIMS,
      weights: Buffer.alloc(0),
    },
  });
  return head.id;
}

/**
 * A new head whose vector set holds `rows`, published, made the project's active set, indexed
 * and answering its searches.
 */
async function activeSet(db: TestDatabase, projectId: string, rows: VectorRow[]): Promise<string> {
  const head = await newHead(db, projectId);
  await db.db.vectorSets.create(head);
  await db.db.vectorSets.upsert(head, rows);
  await db.db.vectorSets.publish(head);
  await db.db.vectorSets.activate(projectId, head);
  await db.db.vectorSets.buildSearchIndex(head);
  expect(await db.db.vectorSets.useForSearch(head)).toBe(true);
  return head;
}

const searchHead = async (db: TestDatabase, projectId: string) =>
  (await db.prisma.project.findUniqueOrThrow({ where: { id: projectId } })).searchHeadVersionId;

describe('vector sets and kNN', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('returns exactly the expected neighbours on a small fixed set, nearest first', async () => {
    const { projectId, itemIds } = await seedProject(db.db, { items: 6 });
    // Items 0..5 lie at growing angles from axis 0.
    await activeSet(
      db,
      projectId,
      itemIds.map((itemId, i) => ({ itemId, embedding: unitAxis(0, i * 0.5) })),
    );
    const found = await db.db.knn.search({ projectId, embedding: unitAxis(0), k: 3 });
    expect(found.map((n) => n.itemId)).toEqual(itemIds.slice(0, 3));
    expect(found[0]!.distance).toBeCloseTo(0, 6);
    expect(found[1]!.distance).toBeCloseTo(1 - 1 / Math.sqrt(1.25), 6);
    const exact = await db.db.knn.exact({ projectId, embedding: unitAxis(0), k: 3 });
    expect(exact).toEqual(found);
  });

  it('filtered kNN never returns filtered-out rows', async () => {
    const { projectId, itemIds, classIds } = await seedProject(db.db, { items: 400 });
    const head = await newHead(db, projectId);
    const random = rng(7);
    await db.db.vectorSets.create(head);
    await db.db.vectorSets.upsert(
      head,
      itemIds.map((itemId) => ({
        itemId,
        embedding: Array.from({ length: VECTOR_DIMS }, () => random() - 0.5),
      })),
    );
    // Label every 7th item by a human, every 11th automatically (label after the vectors
    // exist, so the trigger has to keep the copy on item_vectors current).
    for (const [i, itemId] of itemIds.entries()) {
      if (i % 7 === 0)
        await db.db.labels.append({
          projectId,
          itemId,
          labelClassId: classIds[0]!,
          source: 'HUMAN',
          supersedesId: null,
        });
      else if (i % 11 === 0)
        await db.db.labels.append({
          projectId,
          itemId,
          labelClassId: classIds[1]!,
          source: 'AUTO',
          supersedesId: null,
        });
    }
    await db.db.vectorSets.publish(head);
    await db.db.vectorSets.activate(projectId, head);
    const human = new Set(itemIds.filter((_, i) => i % 7 === 0));
    const evalItems = new Set(itemIds.filter((_, i) => i % 5 === 4));
    for (let q = 0; q < 10; q++) {
      const embedding = Array.from({ length: VECTOR_DIMS }, () => random() - 0.5);
      const byHuman = await db.db.knn.search({
        projectId,
        embedding,
        k: 10,
        filter: { labelSources: ['HUMAN'] },
      });
      expect(byHuman).toHaveLength(10);
      expect(byHuman.every((n) => human.has(n.itemId) && n.labelSource === 'HUMAN')).toBe(true);
      const evalOnly = await db.db.knn.search({
        projectId,
        embedding,
        k: 10,
        filter: { splits: ['EVAL'], labeled: false },
      });
      expect(evalOnly).toHaveLength(10);
      expect(evalOnly.every((n) => evalItems.has(n.itemId) && n.labelClassId === null)).toBe(true);
      const excluded = byHuman.slice(0, 3).map((n) => n.itemId);
      const rest = await db.db.knn.search({
        projectId,
        embedding,
        k: 5,
        filter: { labelSources: ['HUMAN'], excludeItemIds: excluded },
      });
      expect(rest.some((n) => excluded.includes(n.itemId))).toBe(false);
    }
    // Another project's vectors are never returned.
    const other = await seedProject(db.db, { items: 5 });
    await expect(
      db.db.knn.search({ projectId: other.projectId, embedding: unitAxis(0), k: 3 }),
    ).rejects.toThrow(/no active vector set/);
  });

  it('reaches recall@10 >= 0.95 against exact search on 20k random 128-d vectors', async () => {
    const { projectId, itemIds } = await seedProject(db.db, { items: 20_000 });
    const random = rng(42);
    await activeSet(
      db,
      projectId,
      itemIds.map((itemId) => ({
        itemId,
        embedding: Array.from({ length: VECTOR_DIMS }, () => random() * 2 - 1),
      })),
    );
    const plan = await db.db.knn.explain({
      projectId,
      embedding: unitAxis(0),
      k: 10,
      efSearch: 500,
    });
    expect(plan).toMatch(/Index Scan using item_vectors_[0-9a-f]{32}_embedding_idx/);
    let hits = 0;
    const queries = 50;
    for (let q = 0; q < queries; q++) {
      const embedding = Array.from({ length: VECTOR_DIMS }, () => random() * 2 - 1);
      // Uniform random vectors are HNSW's worst case; see KnnQuery.efSearch.
      const approx = await db.db.knn.search({ projectId, embedding, k: 10, efSearch: 500 });
      const exact = new Set(
        (await db.db.knn.exact({ projectId, embedding, k: 10 })).map((n) => n.itemId),
      );
      hits += approx.filter((n) => exact.has(n.itemId)).length;
    }
    const recall = hits / (queries * 10);
    console.log(`HNSW recall@10 on 20k random vectors: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });

  it('swaps the active set atomically, and searches only once its index is built', async () => {
    const { projectId, itemIds } = await seedProject(db.db, { items: 4 });
    const oldHead = await newHead(db, projectId);
    await db.db.vectorSets.create(oldHead);
    await db.db.vectorSets.upsert(
      oldHead,
      itemIds.map((itemId, i) => ({ itemId, embedding: unitAxis(i) })),
    );
    await db.db.vectorSets.publish(oldHead);
    expect(await db.db.vectorSets.searchIndexState(oldHead)).toBe('none');
    // The first set answers searches at once (exactly, until its index exists).
    expect(await db.db.vectorSets.activate(projectId, oldHead)).toBeNull();
    expect(await searchHead(db, projectId)).toBe(oldHead);
    await db.db.vectorSets.buildSearchIndex(oldHead);
    expect(await db.db.vectorSets.searchIndexState(oldHead)).toBe('ready');

    const newHeadId = await newHead(db, projectId);
    await db.db.vectorSets.create(newHeadId);
    await db.db.vectorSets.upsert(
      newHeadId,
      itemIds.map((itemId, i) => ({ itemId, embedding: unitAxis(3 - i) })),
    );
    // Not published yet: it cannot be activated.
    await expect(db.db.vectorSets.activate(projectId, newHeadId)).rejects.toThrow(/not published/);
    await db.db.vectorSets.publish(newHeadId);
    expect(await db.db.vectorSets.activate(projectId, newHeadId)).toBe(oldHead);
    // Active (scoring reads it) but not indexed: searches still answer from the old set.
    expect(await searchHead(db, projectId)).toBe(oldHead);
    expect(await db.db.vectorSets.useForSearch(newHeadId)).toBe(false);
    expect((await db.db.knn.search({ projectId, embedding: unitAxis(0), k: 1 }))[0]!.itemId).toBe(
      itemIds[0],
    );
    await expect(db.db.vectorSets.drop(oldHead)).rejects.toThrow(/answers searches/);
    // The maintenance pass finds it (once it has been active a while) and starts its build.
    await db.prisma.headVersion.update({
      where: { id: newHeadId },
      data: { promotedAt: new Date(Date.now() - 60_000) },
    });
    expect(await db.db.vectorSets.awaitingSearchIndex(new Date(Date.now() - 120_000))).toEqual([]);
    expect(await db.db.vectorSets.awaitingSearchIndex(new Date())).toContain(newHeadId);
    await db.db.vectorSets.buildSearchIndex(newHeadId);
    expect(await db.db.vectorSets.useForSearch(newHeadId)).toBe(true);
    expect((await db.db.knn.search({ projectId, embedding: unitAxis(0), k: 1 }))[0]!.itemId).toBe(
      itemIds[3],
    );
    expect(await db.db.vectorSets.awaitingSearchIndex(new Date())).not.toContain(newHeadId);
    await expect(db.db.vectorSets.drop(newHeadId)).rejects.toThrow(/is active/);
    // Back to the old head (a rollback): its index is there, so it searches at once.
    await db.db.vectorSets.activate(projectId, oldHead);
    expect(await searchHead(db, projectId)).toBe(oldHead);
    await db.db.vectorSets.activate(projectId, newHeadId);
    expect(await searchHead(db, projectId)).toBe(newHeadId);
    await db.db.vectorSets.drop(oldHead);
    expect(
      await db.db.knn.search({ projectId, embedding: unitAxis(0), k: 4, headVersionId: oldHead }),
    ).toEqual([]);
    const back = await db.db.vectorSets.vectorsOf(newHeadId, [itemIds[3]!]);
    expect(Array.from(back.get(itemIds[3]!)!)).toEqual(unitAxis(0));
  });

  it('answers every search while the new index is built, from one set at a time', async () => {
    const n = 6000;
    const { projectId, itemIds } = await seedProject(db.db, { items: n });
    const random = rng(11);
    const vector = () => Array.from({ length: VECTOR_DIMS }, () => random() * 2 - 1);
    const oldHead = await activeSet(
      db,
      projectId,
      itemIds.map((itemId) => ({ itemId, embedding: vector() })),
    );
    const newHeadId = await newHead(db, projectId);
    await db.db.vectorSets.create(newHeadId);
    await db.db.vectorSets.upsert(
      newHeadId,
      itemIds.map((itemId) => ({ itemId, embedding: vector() })),
    );
    await db.db.vectorSets.publish(newHeadId);
    await db.db.vectorSets.activate(projectId, newHeadId);
    const queries = Array.from({ length: 20 }, vector);
    // Each query's 20 nearest in either set (the two sets' are unrelated): a search's 5 must
    // all come from one of them, whatever the approximate search missed.
    const nearest = async (head: string) =>
      Promise.all(
        queries.map(
          async (embedding) =>
            new Set(
              (await db.db.knn.exact({ projectId, embedding, k: 20, headVersionId: head })).map(
                (r) => r.itemId,
              ),
            ),
        ),
      );
    const [before, after] = [await nearest(oldHead), await nearest(newHeadId)];
    let building = true;
    const seen = { old: 0, new: 0 };
    const searching = (async () => {
      for (let q = 0; building || seen.new === 0; q = (q + 1) % queries.length) {
        const got = await db.db.knn.search({ projectId, embedding: queries[q]!, k: 5 });
        expect(got).toHaveLength(5);
        if (got.every((r) => before[q]!.has(r.itemId))) seen.old++;
        else if (got.every((r) => after[q]!.has(r.itemId))) seen.new++;
        else throw new Error(`query ${q} answered from neither set whole`);
      }
    })();
    await db.db.vectorSets.buildSearchIndex(newHeadId);
    expect(await db.db.vectorSets.useForSearch(newHeadId)).toBe(true);
    building = false;
    await searching;
    console.log(`searches during the index build: ${seen.old} old set, then ${seen.new} new set`);
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
  });

  it('drops retired sets beyond the newest kept, never one that serves, and gives way to busy locks', async () => {
    const { projectId, itemIds } = await seedProject(db.db, { items: 3 });
    const heads: string[] = [];
    for (let i = 0; i < 4; i++) {
      const head = await newHead(db, projectId);
      const { encoderVersionId } = await db.prisma.headVersion.findUniqueOrThrow({
        where: { id: head },
      });
      await db.db.projects.setEncoderIfNone(projectId, encoderVersionId);
      await db.db.vectorSets.create(head);
      await db.db.vectorSets.upsert(
        head,
        itemIds.map((itemId) => ({ itemId, embedding: unitAxis(i) })),
      );
      await db.db.vectorSets.publish(head);
      await db.db.heads.promote(head, { note: `head ${i}` });
      heads.push(head);
    }
    const [h0, h1, h2, h3] = heads as [string, string, string, string];
    // h3 is active; no index was built, so h0 (the first) still answers searches.
    expect(await searchHead(db, projectId)).toBe(h0);
    const mine = async (keep: number) =>
      (await db.db.vectorSets.retiredBeyond(keep)).filter((id) => heads.includes(id));
    expect(await mine(2)).toEqual([]);
    expect(await mine(1)).toEqual([h1]);
    expect(await mine(0)).toEqual([h2, h1]);
    expect(await db.db.vectorSets.dropRetired(h0)).toBe(false);
    expect(await db.db.vectorSets.dropRetired(h3)).toBe(false);

    // A search reading the sets holds a lock the drop needs: it gives up within its timeout.
    const reader = await db.pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM item_vectors WHERE head_version_id = $1', [h1]);
      const started = Date.now();
      expect(await db.db.vectorSets.dropRetired(h1, 200)).toBe(false);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await db.db.vectorSets.state(h1)).toBe('published');
    } finally {
      await reader.query('COMMIT');
      reader.release();
    }
    expect(await db.db.vectorSets.dropRetired(h1)).toBe(true);
    expect(await db.db.vectorSets.state(h1)).toBe('missing');
    expect(await mine(0)).toEqual([h2]);
    // Rollback goes to the newest earlier head that still has its set.
    expect((await db.db.heads.rollback(projectId, 'back')).id).toBe(h2);
    expect(await db.db.vectorSets.dropRetired(h3)).toBe(true);
    expect(await db.db.vectorSets.state(h2)).toBe('published');
  });

  it('bulk-appends a set by binary COPY, resumes after a checkpoint and publishes it whole', async () => {
    const { projectId, classIds, itemIds } = await seedProject(db.db, { items: 6 });
    const ids = [...itemIds].sort();
    const splitOf = new Map(
      (await db.prisma.item.findMany({ where: { projectId } })).map((i) => [i.id, i.split]),
    );
    // Components exact in float4, so the round trip can be compared exactly.
    const embeddingOf = (i: number) => unitAxis(i).map((v, d) => v + ((d * 7 + i) % 16) / 64);
    const rowOf = (i: number) => ({
      itemId: ids[i]!,
      split: splitOf.get(ids[i]!)!,
      labelClassId: i === 0 ? classIds[0]! : null,
      labelSource: i === 0 ? ('HUMAN' as const) : null,
      embedding: Float32Array.from(embeddingOf(i)),
    });
    await db.db.labels.append({
      projectId,
      itemId: ids[0]!,
      labelClassId: classIds[0]!,
      source: 'HUMAN',
      supersedesId: null,
    });
    const head = await newHead(db, projectId);
    await db.db.vectorSets.create(head);
    expect(await db.db.vectorSets.append(head, [0, 1, 2, 3].map(rowOf))).toBe(4);
    await expect(db.db.vectorSets.append(head, [rowOf(3)])).rejects.toThrow(/duplicate key/);
    await expect(
      db.db.vectorSets.append(head, [{ ...rowOf(4), embedding: [1, 2] }]),
    ).rejects.toThrow(/2 dimensions/);
    // A resumed append first drops what came after its last checkpoint.
    await db.db.vectorSets.truncateAfter(head, ids[1]!);
    await db.db.vectorSets.append(head, [2, 3, 4, 5].map(rowOf));
    // After the copy: item 1 gets a label, item 5 is deleted; publish must see both.
    await db.db.labels.append({
      projectId,
      itemId: ids[1]!,
      labelClassId: classIds[1]!,
      source: 'HUMAN',
      supersedesId: null,
    });
    await db.prisma.item.delete({ where: { id: ids[5]! } });
    await db.db.vectorSets.publish(head);
    await expect(db.db.vectorSets.append(head, [rowOf(4)])).rejects.toThrow(/already published/);

    const back = await db.db.vectorSets.vectorsOf(head, ids);
    expect([...back.keys()].sort()).toEqual(ids.slice(0, 5));
    for (const i of [0, 1, 2, 3, 4]) expect(Array.from(back.get(ids[i]!)!)).toEqual(embeddingOf(i));
    const labeled = await db.db.knn.search({
      projectId,
      embedding: unitAxis(0),
      k: 10,
      headVersionId: head,
      filter: { labeled: true },
    });
    expect(new Map(labeled.map((n) => [n.itemId, n.labelClassId]))).toEqual(
      new Map([
        [ids[0]!, classIds[0]!],
        [ids[1]!, classIds[1]!],
      ]),
    );
    const all = await db.db.knn.search({
      projectId,
      embedding: unitAxis(0),
      k: 10,
      headVersionId: head,
    });
    expect(all.map((n) => [n.itemId, n.split]).sort()).toEqual(
      ids
        .slice(0, 5)
        .map((id) => [id, splitOf.get(id)])
        .sort(),
    );
    const { rows } = await db.pool.query(
      `SELECT confrelid::regclass::text AS target FROM pg_constraint
        WHERE conrelid = $1::regclass AND contype = 'f' AND convalidated ORDER BY 1`,
      [`item_vectors_${head.replaceAll('-', '')}`],
    );
    expect(rows.map((r) => r.target)).toEqual(['head_versions', 'items']);
  });

  it('refuses vectors of the wrong width or with NaN, naming the problem', async () => {
    const { projectId, itemIds } = await seedProject(db.db, { items: 1 });
    const head = await newHead(db, projectId);
    await db.db.vectorSets.create(head);
    await expect(
      db.db.vectorSets.upsert(head, [{ itemId: itemIds[0]!, embedding: [1, 2, 3] }]),
    ).rejects.toThrow(/vector 0 has 3 dimensions; vectors here have 128/);
    await expect(
      db.db.vectorSets.upsert(head, [
        { itemId: itemIds[0]!, embedding: unitAxis(0).map(() => NaN) },
      ]),
    ).rejects.toThrow(/NaN/);
    await expect(
      db.db.knn.search({ projectId, embedding: unitAxis(0), k: 0, headVersionId: head }),
    ).rejects.toThrow(/k must be/);
  });
});
