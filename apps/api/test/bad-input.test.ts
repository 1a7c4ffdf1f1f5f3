import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBomb } from '@beanstalk/testing';
import { codes, startApi, type Api } from './harness.ts';

describe('bad input gets a clear error and the server keeps serving', () => {
  let api: Api;
  let manager: { cookie: string };
  let png: Uint8Array;
  const slug = 'fm-bad-input';

  beforeAll(async () => {
    api = await startApi({
      config: (c) => ({ ...c, api: { ...c.api, maxUploadBytes: 10 * 1024 * 1024 } }),
    });
    const seeded = await api.seedProject({ limit: 100, labeled: 50, slug });
    manager = await api.user('manager@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    png = await api.blobs.get(seeded.items[0]!.blobKey);
  });
  afterAll(() => api?.stop());

  async function stillServing() {
    const r = await api.ok(manager, `query { project(slug: "${slug}") { itemCounts { total } } }`);
    expect(r.project.itemCounts.total).toBe(200);
  }

  const raw = (body: string, contentType = 'application/json') =>
    fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': contentType, cookie: manager.cookie },
      body,
    });

  it('malformed GraphQL', async () => {
    const r = await api.gql(manager, '{ projects { slug ');
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(r.errors![0]!.message).toMatch(/Syntax Error/);
    await stillServing();
  });

  it('an over-deep query is refused before it runs', async () => {
    const deep = `query { items(project: "${slug}", first: 1) { edges { node { neighbors { item {
      neighbors { item { neighbors { item { neighbors { item { id } } } } } } } } } } } }`;
    const r = await api.gql(manager, deep);
    expect(codes(r)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(r.errors![0]!.message).toMatch(/depth/i);
    await stillServing();
  });

  it('a PNG bomb is refused quickly, to classify and to import, without the memory it asks for', async () => {
    // 28x28 like the model's images, so it takes the fast decoder; 800 MiB of pixel data.
    const bomb = await pngBomb(28, 28, 800);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const rssBefore = process.memoryUsage().rss;
    for (const [field, query] of [
      [
        'classify',
        `mutation ($i: Upload!) { classify(project: "${slug}", image: $i) { confidence } }`,
      ],
      [
        'importItems',
        `mutation ($i: [Upload!]!) { importItems(project: "${slug}", files: $i) { imported failed errors { reason } } }`,
      ],
    ] as const) {
      const started = performance.now();
      const r = await api.upload(
        manager,
        query,
        { i: field === 'classify' ? null : [null] },
        field === 'classify'
          ? { i: { name: 'bomb.png', bytes: bomb } }
          : { 'i.0': { name: 'bomb.png', bytes: bomb } },
      );
      expect(performance.now() - started).toBeLessThan(2000);
      if (field === 'classify') {
        expect(codes(r)).toEqual(['BAD_USER_INPUT']);
        expect(r.errors![0]!.message).toMatch(/^bomb\.png: refused: .*inflates to more than/);
      } else {
        expect(r.data!.importItems).toMatchObject({ imported: 0, failed: 1 });
        expect(r.data!.importItems.errors[0].reason).toMatch(/refused: .*inflates to more than/);
      }
    }
    // The API runs in this process: it never held the 800 MiB.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
    await stillServing();
  });

  it('a query that multiplies out to thousands of similarity searches is refused before it runs', async () => {
    const fanOut = `query ($n: Int) { items(project: "${slug}", first: $n) { edges { node {
      neighbors(k: 100) { item { neighbors(k: 100) { distance } } } } } } }`;
    const refused = await api.gql(manager, fanOut, { n: 500 });
    expect(codes(refused)).toEqual(['QUERY_TOO_EXPENSIVE']);
    expect(refused.errors![0]!.extensions).toMatchObject({ knnCalls: 500 + 500 * 100 });
    // The same shape with small numbers is an ordinary page.
    const page = await api.gql(
      manager,
      `query { items(project: "${slug}", first: 20) { edges { node { neighbors(k: 5) { distance } } } } }`,
    );
    expect(page.errors).toBeUndefined();
    expect(page.data!.items.edges).toHaveLength(20);
    // Through a fragment, and a variable, it is counted just the same.
    const viaFragment = await api.gql(
      manager,
      `query ($n: Int) { items(project: "${slug}", first: $n) { edges { node { ...n } } } }
       fragment n on Item { neighbors(k: 5) { distance } }`,
      { n: 300 },
    );
    expect(codes(viaFragment)).toEqual(['QUERY_TOO_EXPENSIVE']);
    expect(viaFragment.errors![0]!.extensions).toMatchObject({ knnCalls: 300 });
    await stillServing();
  });

  it('a 50 MB upload is refused naming the file', async () => {
    const big = new Uint8Array(50 * 1024 * 1024);
    big.set(png);
    const r = await api.upload(
      manager,
      `mutation ($i: Upload!) { classify(project: "${slug}", image: $i) { confidence } }`,
      { i: null },
      { i: { name: 'huge.png', bytes: big } },
    );
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message).toMatch(/^huge\.png: .*10485760/);
    await stillServing();
  });

  it('a PNG with a bad header, and a file that is no image, name the file', async () => {
    const broken = Uint8Array.from(png);
    broken[1] = 0x00;
    const r = await api.upload(
      manager,
      `mutation ($f: [Upload!]!) { importItems(project: "${slug}", files: $f) { imported failed errors { file reason } } }`,
      { f: [null, null, null] },
      {
        'f.0': { name: 'bad-header.png', bytes: broken },
        'f.1': {
          name: 'notes.txt',
          bytes: new TextEncoder().encode('not an image'),
          type: 'text/plain',
        },
        'f.2': { name: 'fine.png', bytes: png },
      },
    );
    // One bad file does not sink the batch: the good one is a duplicate, the bad ones are named.
    expect(r.errors).toBeUndefined();
    expect(r.data!.importItems.imported).toBe(0);
    expect(r.data!.importItems.failed).toBe(2);
    expect(r.data!.importItems.errors.map((e: { file: string }) => e.file)).toEqual([
      'bad-header.png',
      'notes.txt',
    ]);
    const classify = await api.upload(
      manager,
      `mutation ($i: Upload!) { classify(project: "${slug}", image: $i) { confidence } }`,
      { i: null },
      { i: { name: 'bad-header.png', bytes: broken } },
    );
    expect(codes(classify)).toEqual(['BAD_USER_INPUT']);
    expect(classify.errors![0]!.message).toMatch(/^bad-header\.png: /);
    await stillServing();
  });

  it('JSON bodies of the wrong type, and bodies that are not JSON', async () => {
    for (const body of [
      '[1, 2, 3]',
      '"query"',
      '{"query": 5}',
      '{"query": "{ projects { slug } }", "variables": "x"}',
    ]) {
      const response = await raw(body);
      expect(response.status, body).toBe(400);
      const answer = (await response.json()) as { errors: { message: string }[] };
      expect(answer.errors[0]!.message, body).toMatch(
        /batching disabled|must be|must contain|string|not valid JSON/i,
      );
    }
    const notJson = await raw('{"query": ');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      errors: [
        { message: 'the request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } },
      ],
    });
    // Asked again and again (so run compiled, not only the first time): still a coded 400.
    for (let i = 0; i < 3; i++) {
      const wrongVariable = await api.gql(
        manager,
        'query ($s: String!) { project(slug: $s) { id } }',
        { s: 42 },
      );
      expect(wrongVariable.status).toBe(400);
      expect(codes(wrongVariable)).toEqual(['BAD_USER_INPUT']);
    }
    await stillServing();
  });

  it('JSON bodies over 1 MB, compressed bodies and other paths get a coded refusal', async () => {
    const errorOf = async (response: Response) => ({
      status: response.status,
      cache: response.headers.get('cache-control'),
      code: ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!
        .extensions.code,
    });
    const large = JSON.stringify({ query: '{ health { ok } }', pad: 'x'.repeat(1024 * 1024) });
    expect(await errorOf(await raw(large))).toEqual({
      status: 413,
      cache: 'no-store',
      code: 'BAD_USER_INPUT',
    });
    // Chunked, so no size is declared: the body is cut off where it passes the limit.
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode(large));
        controller.close();
      },
    });
    const undeclared = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: manager.cookie },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect((await errorOf(undeclared)).status).toBe(413);
    const gzipped = await fetch(api.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        cookie: manager.cookie,
      },
      body: new Uint8Array(gzipSync(JSON.stringify({ query: '{ health { ok } }' }))),
    });
    expect(await errorOf(gzipped)).toEqual({
      status: 415,
      cache: 'no-store',
      code: 'BAD_USER_INPUT',
    });
    const elsewhere = await fetch(new URL('/admin', api.url), {
      headers: { cookie: manager.cookie },
    });
    expect(await errorOf(elsewhere)).toEqual({ status: 404, cache: 'no-store', code: 'NOT_FOUND' });
    await stillServing();
  });

  it('a multipart request without the preflight header is refused (CSRF prevention)', async () => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: '{ health { ok } }' }));
    form.append('map', '{}');
    const response = await fetch(api.url, {
      method: 'POST',
      headers: { cookie: manager.cookie },
      body: form,
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/i);
    await stillServing();
  });
});

describe('production mode', () => {
  let api: Api;
  beforeAll(async () => {
    api = await startApi({
      config: (c) => ({
        ...c,
        environment: 'production',
        api: { ...c.api, rateLimitPerSecond: 2 },
      }),
    });
  });
  afterAll(() => api?.stop());

  it('hides the schema and stack traces, and limits the request rate per caller', async () => {
    const introspection = await api.gql(null, '{ __schema { types { name } } }');
    expect(codes(introspection)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const unknown = await api.gql(null, '{ nope }');
    expect(JSON.stringify(unknown.errors)).not.toMatch(/stacktrace/);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push((await api.gql(null, '{ health { database } }')).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limited = await api.gql(null, '{ health { database } }');
    expect(limited.status).toBe(429);
    expect(codes(limited)).toEqual(['RATE_LIMITED']);
  });
});
