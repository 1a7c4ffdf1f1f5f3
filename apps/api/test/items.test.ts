import pg from 'pg';
import { Classifier, ProjectorCache, scorePool } from '@beanstalk/model-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api } from './harness.ts';

const ITEM_FIELDS = `id split label { labelClass { name } source }
  prediction { labelClass { name } confidence margin anomalyScore }`;

/** What `run` returns, and how many queries the API process sent to Postgres meanwhile. */
async function countingQueries<T>(run: () => Promise<T>): Promise<{ queries: number; result: T }> {
  const original = pg.Client.prototype.query;
  let queries = 0;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    queries++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    const result = await run();
    return { queries, result };
  } finally {
    pg.Client.prototype.query = original;
  }
}

describe('items, search and export over HTTP', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let other: Awaited<ReturnType<Api['seedProject']>>;
  let manager: { cookie: string };
  let slug: string;

  beforeAll(async () => {
    api = await startApi();
    seeded = await api.seedProject({ limit: 400, labeled: 200, slug: 'fm-items' });
    // A second project over the same images: its items must never show up in the first's answers.
    other = await api.seedProject({ limit: 400, labeled: 200, slug: 'fm-other' });
    slug = 'fm-items';
    manager = await api.user('manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
  });
  afterAll(() => api?.stop());

  it('filters return exactly the rows that match, and sorts order by the score', async () => {
    const classes = await api.db.prisma.labelClass.findMany({
      where: { projectId: seeded.projectId },
    });
    const shirt = classes.find((c) => c.name === 'Shirt')!;
    const data = await api.ok(
      manager,
      `query ($slug: String!, $f: ItemFilter) {
        items(project: $slug, filter: $f, sort: UNCERTAINTY, first: 500) {
          totalCount edges { node { ${ITEM_FIELDS} } } } }`,
      { slug, f: { labeled: false, predictedClassIds: [shirt.id], confidence: { max: 0.9 } } },
    );
    const expected = await api.db.prisma.prediction.findMany({
      where: {
        headVersionId: seeded.headVersionId,
        labelClassId: shirt.id,
        confidence: { lte: 0.9 },
      },
      orderBy: [{ margin: 'asc' }, { itemId: 'asc' }],
    });
    expect(expected.length).toBeGreaterThan(0);
    const nodes = data.items.edges.map((e: any) => e.node);
    expect(data.items.totalCount).toBe(expected.length);
    expect(nodes.map((n: any) => n.id)).toEqual(expected.map((p) => p.itemId));
    for (const n of nodes) {
      expect(n.label).toBeNull();
      expect(n.prediction.labelClass.name).toBe('Shirt');
      expect(n.prediction.confidence).toBeLessThanOrEqual(0.9);
    }

    const labeled = await api.ok(
      manager,
      `query ($slug: String!) { items(project: $slug, filter: { labelSources: [IMPORT], split: POOL }, first: 500) {
        totalCount edges { node { label { source } } } } }`,
      { slug },
    );
    expect(labeled.items.totalCount).toBe(200);
    expect(new Set(labeled.items.edges.map((e: any) => e.node.label.source))).toEqual(
      new Set(['IMPORT']),
    );

    const anomalous = await api.ok(
      manager,
      `query ($slug: String!) { items(project: $slug, sort: ANOMALY, first: 50) { edges { node { prediction { anomalyScore } } } } }`,
      { slug },
    );
    const scores = anomalous.items.edges.map((e: any) => e.node.prediction.anomalyScore);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
  });

  it('pages stay stable while items are inserted concurrently', async () => {
    const query = `query ($slug: String!, $after: String) {
      items(project: $slug, first: 37, after: $after, sort: RECENT) {
        edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    const before = await api.db.prisma.item.findMany({
      where: { projectId: seeded.projectId },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      select: { id: true },
    });
    const seen: string[] = [];
    let after: string | null = null;
    let inserted = 0;
    for (;;) {
      const page: any = await api.ok(manager, query, { slug, after });
      seen.push(...page.items.edges.map((e: any) => e.node.id));
      // New items arrive between page requests (newer than everything paged so far).
      await api.db.prisma.item.create({
        data: {
          projectId: seeded.projectId,
          contentHash: `inserted-${inserted}`,
          blobKey: `inserted-${inserted++}`,
          mimeType: 'image/png',
          width: 28,
          height: 28,
          channels: 1,
        },
      });
      if (!page.items.pageInfo.hasNextPage) break;
      after = page.items.pageInfo.endCursor;
    }
    expect(inserted).toBeGreaterThan(10);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before.map((b) => b.id));
    await api.db.prisma.item.deleteMany({ where: { contentHash: { startsWith: 'inserted-' } } });
  });

  it('a page of 100 items with labels, predictions and classes costs a bounded number of queries', async () => {
    const query = `query ($slug: String!, $n: Int!) { items(project: $slug, first: $n) {
      edges { node { ${ITEM_FIELDS} labelHistory { source annotator { email } roundNumber }
        prediction { headVersion { id } } } } } }`;
    const count = async (n: number) => {
      const { queries, result } = await countingQueries(() => api.ok(manager, query, { slug, n }));
      expect(result.items.edges).toHaveLength(n);
      return queries;
    };
    const for10 = await count(10);
    const for100 = await count(100);
    expect(for100).toBe(for10);
    expect(for100).toBeLessThan(25);
  });

  it('neighbours asked for by id alone are answered without reading them; any other field reads them', async () => {
    const probe = seeded.items.find((i) => i.split === 'POOL')!;
    const run = async (selection: string) => {
      const { queries, result } = await countingQueries(() =>
        api.ok(
          manager,
          `query ($id: ID!) { item(id: $id) { neighbors(k: 20) { item ${selection} } } }`,
          { id: probe.id },
        ),
      );
      return { queries, items: result.item.neighbors.map((n: { item: unknown }) => n.item) };
    };
    // Twice: the first time an operation runs through graphql-js, then compiled.
    for (let pass = 0; pass < 2; pass++) {
      const byId = await run('{ id __typename }');
      const full = await run('{ id split }');
      const fragment = await run('{ ... on Item { id split } }');
      expect(byId.items.map((i: { id: string }) => i.id)).toEqual(
        full.items.map((i: { id: string }) => i.id),
      );
      expect(byId.queries).toBe(full.queries - 1);
      // A fragment is read in full too: its fields are there.
      expect(fragment.items).toEqual(full.items);
      expect(full.items.every((i: { split: string }) => ['POOL', 'EVAL'].includes(i.split))).toBe(
        true,
      );
    }
  });

  it('an item shows its label history and its nearest neighbours from its own project', async () => {
    const item = seeded.labeled[0]!;
    const data = await api.ok(
      manager,
      `query ($id: ID!) { item(id: $id) { id imageDataUrl labelHistory { source labelClass { name } }
        neighbors(k: 5) { distance item { id } labelClass { name } } } }`,
      { id: item.id },
    );
    expect(data.item.imageDataUrl).toMatch(/^data:image\/png;base64,iVBOR/);
    expect(data.item.labelHistory).toHaveLength(1);
    expect(data.item.neighbors).toHaveLength(5);
    const ids = new Set(seeded.items.map((i) => i.id));
    for (const n of data.item.neighbors) expect(ids.has(n.item.id)).toBe(true);
    const distances = data.item.neighbors.map((n: any) => n.distance);
    expect(distances).toEqual([...distances].sort((a: number, b: number) => a - b));
  });

  it('classify names the class of a known image and answers with neighbours of the project only', async () => {
    const known = seeded.labeled.slice(0, 5);
    for (const item of known) {
      const bytes = await api.blobs.get(item.blobKey);
      const r = await api.upload(
        manager,
        `mutation ($slug: String!, $image: Upload!) { classify(project: $slug, image: $image, k: 5) {
          labelClass { id name } confidence anomalyScore probabilities neighbors { distance item { id } } } }`,
        { slug, image: null },
        { image: { name: `${item.id}.png`, bytes } },
      );
      expect(r.errors).toBeUndefined();
      const c = r.data!.classify;
      expect(c.labelClass.id).toBe(item.hiddenClassId!);
      // The image itself is among the labeled references, at distance ~0.
      expect(c.neighbors[0].item.id).toBe(item.id);
      expect(c.neighbors[0].distance).toBeLessThan(1e-4);
      expect(c.probabilities).toHaveLength(10);
      expect(c.anomalyScore).toBeGreaterThanOrEqual(0);
      expect(c.anomalyScore).toBeLessThanOrEqual(1);
      const ours = new Set(seeded.items.map((i) => i.id));
      for (const n of c.neighbors) expect(ours.has(n.item.id)).toBe(true);
    }
    const otherIds = new Set(other.items.map((i) => i.id));
    expect(otherIds.has(known[0]!.id)).toBe(false);
    // Nothing was stored without store: true.
    expect(await api.db.prisma.item.count({ where: { projectId: seeded.projectId } })).toBe(800);
  });

  it('classify of a pool item’s image gives that item’s stored prediction under the same head', async () => {
    // The stored predictions came from the round's scoring path (scorePool); classify must
    // agree with them: the same vote, confidence and anomaly score, not just the same class.
    const unlabeled = seeded.items.filter((i) => i.split === 'POOL').slice(250, 270);
    const stored = await api.db.prisma.prediction.findMany({
      where: { headVersionId: seeded.headVersionId, itemId: { in: unlabeled.map((i) => i.id) } },
    });
    expect(stored).toHaveLength(unlabeled.length);
    const project = await api.db.prisma.project.findUniqueOrThrow({
      where: { id: seeded.projectId },
    });
    for (const prediction of stored) {
      const item = unlabeled.find((i) => i.id === prediction.itemId)!;
      const r = await api.upload(
        manager,
        `mutation ($slug: String!, $image: Upload!, $k: Int) { classify(project: $slug, image: $image, k: $k) {
          labelClass { id } confidence margin anomalyScore probabilities headVersion { id } } }`,
        { slug, image: null, k: project.k },
        { image: { name: `${item.id}.png`, bytes: await api.blobs.get(item.blobKey) } },
      );
      expect(r.errors).toBeUndefined();
      const c = r.data!.classify;
      expect(c.headVersion.id).toBe(seeded.headVersionId);
      expect(c.labelClass.id).toBe(prediction.labelClassId);
      expect(Math.abs(c.confidence - prediction.confidence)).toBeLessThan(1e-6);
      expect(Math.abs(c.margin - prediction.margin)).toBeLessThan(1e-6);
      expect(Math.abs(c.anomalyScore - prediction.anomalyScore)).toBeLessThan(1e-6);
      c.probabilities.forEach((p: number, j: number) =>
        expect(Math.abs(p - prediction.probabilities[j]!)).toBeLessThan(1e-6),
      );
    }
    // Spread over the range, or agreement would be cheap.
    expect(new Set(stored.map((p) => p.anomalyScore)).size).toBeGreaterThan(5);
  });

  it('classifyBatch and classifyBase64 answer as classify does, in order, within their limits', async () => {
    const unlabeled = seeded.items.filter((i) => i.split === 'POOL').slice(280, 286);
    const stored = new Map(
      (
        await api.db.prisma.prediction.findMany({
          where: {
            headVersionId: seeded.headVersionId,
            itemId: { in: unlabeled.map((i) => i.id) },
          },
        })
      ).map((p) => [p.itemId, p]),
    );
    const images = await Promise.all(
      unlabeled.map(async (i) => ({ name: `${i.id}.png`, bytes: await api.blobs.get(i.blobKey) })),
    );
    const project = await api.db.prisma.project.findUniqueOrThrow({
      where: { id: seeded.projectId },
    });
    // The project's k, as the round scored the stored predictions with.
    const fields = `labelClass { id } confidence anomalyScore neighbors { item { id } } item { id }`;
    const batch = await api.upload(
      manager,
      `mutation ($slug: String!, $images: [Upload!]!) { classifyBatch(project: $slug, images: $images) { ${fields} } }`,
      { slug, images: images.map(() => null) },
      Object.fromEntries(images.map((image, i) => [`images.${i}`, image])),
    );
    expect(batch.errors).toBeUndefined();
    const json = await api.ok(
      manager,
      `mutation ($slug: String!, $images: [Base64Image!]!) { classifyBase64(project: $slug, images: $images) { ${fields} } }`,
      {
        slug,
        images: images.map((image) => ({ data: Buffer.from(image.bytes).toString('base64') })),
      },
    );
    for (const answers of [batch.data!.classifyBatch, json.classifyBase64]) {
      expect(answers).toHaveLength(unlabeled.length);
      answers.forEach((c: any, i: number) => {
        const prediction = stored.get(unlabeled[i]!.id)!;
        expect(c.labelClass.id).toBe(prediction.labelClassId);
        expect(Math.abs(c.confidence - prediction.confidence)).toBeLessThan(1e-6);
        expect(Math.abs(c.anomalyScore - prediction.anomalyScore)).toBeLessThan(1e-6);
        expect(c.neighbors).toHaveLength(project.k);
        expect(c.item).toBeNull();
      });
    }
    // The answers differ from image to image, so the order above was checked, not assumed.
    expect(new Set(json.classifyBase64.map((c: any) => c.confidence)).size).toBeGreaterThan(1);

    const refused = async (images: unknown[], pattern: RegExp) => {
      const r = await api.gql(
        manager,
        `mutation ($slug: String!, $images: [Base64Image!]!) { classifyBase64(project: $slug, images: $images) { confidence } }`,
        { slug, images },
      );
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0]!.message).toMatch(pattern);
    };
    await refused(
      Array.from({ length: 65 }, () => ({ data: 'AAAA' })),
      /1\.\.64 images per request \(got 65\)/,
    );
    await refused([], /got 0/);
    await refused([{ name: 'spaces.png', data: 'not base64!' }], /spaces\.png: data is not base64/);
    await refused(
      [
        { data: Buffer.from(images[0]!.bytes).toString('base64') },
        { name: 'noise.png', data: Buffer.from('not an image at all').toString('base64') },
      ],
      /noise\.png/,
    );
    // The server keeps serving after the refusals.
    const again = await api.ok(
      manager,
      `mutation ($slug: String!, $images: [Base64Image!]!) { classifyBase64(project: $slug, images: $images) { confidence } }`,
      { slug, images: [{ data: Buffer.from(images[0]!.bytes).toString('base64') }] },
    );
    expect(again.classifyBase64).toHaveLength(1);
  });

  it('with no class counted as normal, anomaly scores compare with an unlabeled pool sample, and classify agrees', async () => {
    const p = await api.seedProject({ limit: 300, labeled: 100, slug: 'fm-no-normal' });
    await api.db.prisma.labelClass.updateMany({
      where: { projectId: p.projectId },
      data: { isNormal: false },
    });
    await scorePool(api.db.db, { headVersionId: p.headVersionId, roundId: null, k: 10 });
    const stored = await api.db.prisma.prediction.findMany({
      where: { headVersionId: p.headVersionId },
    });
    expect(stored.length).toBeGreaterThan(100);
    // With nothing labeled normal the score used to be the same for every item.
    expect(new Set(stored.map((s) => s.anomalyScore.toFixed(6))).size).toBeGreaterThan(20);
    const projectors = new ProjectorCache(api.db.db, 1);
    const classifier = new Classifier({
      db: api.db.db,
      encoders: api.services.encoders,
      projectors,
    });
    const models = {
      id: p.projectId,
      activeHeadVersionId: p.headVersionId,
      encoderVersionId: p.encoderVersionId,
    };
    try {
      // Every unlabeled pool item is in the sample (fewer than its size), so each answer
      // below also checks that an item's image is not its own neighbour on either path.
      for (const prediction of stored.slice(0, 10)) {
        const item = p.items.find((i) => i.id === prediction.itemId)!;
        const c = await classifier.classify(
          models,
          { name: `${item.id}.png`, bytes: await api.blobs.get(item.blobKey) },
          10,
        );
        expect(Math.abs(c.anomalyScore - prediction.anomalyScore)).toBeLessThan(1e-6);
      }
    } finally {
      await classifier.close();
      await projectors.close();
    }
  });

  it('exported labels re-imported into a new project give the same labels', async () => {
    const exported = await api.ok(
      manager,
      `query ($slug: String!) { exportLabels(project: $slug, format: JSONL) { filename content count } }`,
      { slug },
    );
    expect(exported.exportLabels.count).toBe(200);
    expect(exported.exportLabels.filename).toBe('fm-items-labels.jsonl');
    for (const format of ['CSV', 'COCO']) {
      const r = await api.ok(
        manager,
        `query ($slug: String!, $f: ExportFormat!) { exportLabels(project: $slug, format: $f) { content count } }`,
        { slug, f: format },
      );
      expect(r.exportLabels.count).toBe(200);
    }
    // The other project holds the same images without these labels: clear its labels' view
    // by importing into a third project made of the same images.
    const fresh = await api.seedProject({ limit: 400, labeled: 0, slug: 'fm-reimport' });
    const admin = await api.user('admin-export@example.com', { isAdmin: true });
    const imported = await api.ok(
      admin,
      `mutation ($slug: String!, $jsonl: String!) { importLabels(project: $slug, jsonl: $jsonl) { added conflicts { line } } }`,
      { slug: 'fm-reimport', jsonl: exported.exportLabels.content },
    );
    expect(imported.importLabels).toEqual({ added: 200, conflicts: [] });
    const again = await api.ok(
      admin,
      `query { exportLabels(project: "fm-reimport", format: JSONL) { content } }`,
    );
    const strip = (content: string) =>
      content
        .trim()
        .split('\n')
        .map((l) => {
          const r = JSON.parse(l);
          return `${r.contentHash} ${r.label} ${r.split}`;
        });
    expect(strip(again.exportLabels.content)).toEqual(strip(exported.exportLabels.content));
    expect(fresh.projectId).not.toBe(seeded.projectId);
    // Re-importing the same file adds nothing; an unknown class is refused naming the line.
    const repeat = await api.ok(
      admin,
      `mutation ($jsonl: String!) { importLabels(project: "fm-reimport", jsonl: $jsonl) { added } }`,
      { jsonl: exported.exportLabels.content },
    );
    expect(repeat.importLabels.added).toBe(0);
    const bad = await api.gql(
      admin,
      `mutation ($jsonl: String!) { importLabels(project: "fm-reimport", jsonl: $jsonl) { added } }`,
      { jsonl: JSON.stringify({ contentHash: seeded.items[0]!.contentHash, label: 'Hat' }) },
    );
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0]!.message).toMatch(/line 1: unknown class "Hat"/);
  });

  it('labels arriving while images are classified: answers keep coming, catch up, and replaced references are released', async () => {
    // Rebuilds after every label (no interval) is the worst case for memory: each rebuild
    // holds a reference set and two onnxruntime sessions until the requests using it finish.
    const projectors = new ProjectorCache(api.db.db, 1);
    const classifier = new Classifier(
      { db: api.db.db, encoders: api.services.encoders, projectors },
      { rebuildIntervalMs: 0 },
    );
    const models = {
      id: other.projectId,
      activeHeadVersionId: other.headVersionId,
      encoderVersionId: other.encoderVersionId,
    };
    const classes = await api.db.db.classes.ofProject(other.projectId);
    const image = async (item: { id: string; blobKey: string }) => ({
      name: `${item.id}.png`,
      bytes: await api.blobs.get(item.blobKey),
    });
    const queries = await Promise.all(other.items.slice(300, 304).map(image));
    try {
      let peak = 0;
      let last = { itemId: '', classId: '' };
      for (const item of other.labeled.slice(0, 25)) {
        const classId = classes.find((c) => c.id !== item.hiddenClassId)!.id;
        await api.db.db.labels.relabel({
          projectId: other.projectId,
          itemId: item.id,
          labelClassId: classId,
          annotatorId: null,
          reason: 'a correction while integrators classify',
        });
        last = { itemId: item.id, classId };
        const answers = await Promise.all(queries.map((q) => classifier.classify(models, q, 10)));
        for (const a of answers) expect(a.neighbors).toHaveLength(10);
        peak = Math.max(peak, classifier.liveScorers);
      }
      // The current set, one being built and one still held by a request at most.
      expect(peak).toBeLessThanOrEqual(3);
      // The last correction shows up: the item's own image finds itself, with its new class.
      const own = await image(other.labeled.find((i) => i.id === last.itemId)!);
      await expect
        .poll(async () => (await classifier.classify(models, own, 1)).neighbors[0], {
          timeout: 10_000,
        })
        .toMatchObject({ itemId: last.itemId, labelClassId: last.classId });
      await expect.poll(() => classifier.liveScorers).toBe(1);
    } finally {
      await classifier.close();
      await projectors.close();
    }
  });

  it('a promoted head answers searches only once its index is built; the API says which does', async () => {
    const own = await api.seedProject({ limit: 300, labeled: 100, slug: 'fm-search' });
    const first = own.headVersionId;
    // A second head whose vectors are the first's, shifted by one item: other neighbours.
    const second = await api.copyHead(first);
    const rows = await api.db.db.vectorSets.readPage({
      headVersionId: first,
      splits: ['POOL', 'EVAL'],
    });
    await api.db.db.vectorSets.upsert(
      second,
      rows.map((r, i) => ({ itemId: r.itemId, embedding: rows[(i + 1) % rows.length]!.vector })),
    );
    const admin = await api.user('search-admin@example.com', {
      projectId: own.projectId,
      role: 'MANAGER',
    });
    const item = own.items[0]!.id;
    const expected = async (head: string) => {
      const vector = (await api.db.db.vectorSets.vectorsOf(head, [item])).get(item)!;
      return (
        await api.db.db.knn.exact({
          projectId: own.projectId,
          embedding: vector,
          k: 6,
          headVersionId: head,
        })
      )
        .map((n) => n.itemId)
        .filter((id) => id !== item)
        .slice(0, 5);
    };
    const ask = () =>
      api.ok(
        admin,
        `query ($id: ID!, $slug: String!) {
          item(id: $id) { neighbors(k: 5) { item { id } } }
          project(slug: $slug) { activeHeadVersion { id } searchHeadVersion { id } }
          headVersions(project: $slug) { id searchIndex }
        }`,
        { id: item, slug: 'fm-search' },
      );
    const [byFirst, bySecond] = [await expected(first), await expected(second)];
    expect(byFirst).not.toEqual(bySecond);
    await api.ok(admin, `mutation ($id: ID!) { promoteHeadVersion(id: $id) { active } }`, {
      id: second,
    });
    const during = await ask();
    expect(during.project).toEqual({
      activeHeadVersion: { id: second },
      searchHeadVersion: { id: first },
    });
    const state = (data: typeof during) =>
      Object.fromEntries(
        (data.headVersions as { id: string; searchIndex: string }[]).map((h) => [
          h.id,
          h.searchIndex,
        ]),
      );
    expect(state(during)[first]).toBe('READY');
    expect(state(during)[second]).not.toBe('READY');
    expect(during.item.neighbors.map((n: { item: { id: string } }) => n.item.id)).toEqual(byFirst);
    // What refreshSearchIndex does once the build is done (the workflow is tested with a worker).
    await api.db.db.vectorSets.buildSearchIndex(second);
    expect(await api.db.db.vectorSets.useForSearch(second)).toBe(true);
    const after = await ask();
    expect(after.project.searchHeadVersion).toEqual({ id: second });
    expect(state(after)[second]).toBe('READY');
    expect(after.item.neighbors.map((n: { item: { id: string } }) => n.item.id)).toEqual(bySecond);
  });
});
