// The holes an attacker tries first, tried against the real HTTP server: guessing passwords,
// spoofing the client address, reading other projects, overwriting people's labels, reading
// the server's files, formula cells in exports, and sessions that outlive their welcome.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { grayPng } from '@beanstalk/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, PASSWORD, startApi, type Api } from './harness.ts';

const LOGIN = 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { id } }';
const login = (api: Api, email: string, password: string, from?: string) =>
  api.gql(null, LOGIN, { e: email, p: password }, from ? { 'x-forwarded-for': from } : {});

describe('security controls', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  let other: Awaited<ReturnType<Api['seedProject']>>;
  let importRoot: string;
  let outside: string;
  const slug = 'fm-security';

  beforeAll(async () => {
    importRoot = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-import-root-'));
    outside = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-outside-'));
    api = await startApi({ config: (c) => ({ ...c, api: { ...c.api, importRoot } }) });
    seeded = await api.seedProject({ limit: 200, labeled: 100, slug, budget: 1000 });
    other = await api.seedProject({ limit: 50, labeled: 20, slug: 'fm-secret-line' });
  });
  afterAll(() => api?.stop());

  describe('signing in', () => {
    it('an account is locked after 5 failures, right password or not; others are not', async () => {
      await api.user('victim@example.com');
      for (let i = 0; i < 5; i++) {
        expect(codes(await login(api, 'victim@example.com', `guess ${i} wrong`))).toEqual([
          'UNAUTHENTICATED',
        ]);
      }
      const right = await login(api, 'victim@example.com', PASSWORD);
      expect(codes(right)).toEqual(['RATE_LIMITED']);
      expect(right.status).toBe(429);
      expect(right.errors![0]!.message).toMatch(/try again in \d+ s/);
      // Case and spaces do not buy a fresh count.
      expect(codes(await login(api, ' Victim@Example.com', PASSWORD))).toEqual(['RATE_LIMITED']);
      await api.user('bystander@example.com');
      expect((await login(api, 'bystander@example.com', PASSWORD)).errors).toBeUndefined();
    });

    it('concurrent guesses cannot slip past the count', async () => {
      await api.user('rushed@example.com');
      const all = await Promise.all(
        Array.from({ length: 30 }, (_, i) => login(api, 'rushed@example.com', `guess ${i}`)),
      );
      const wrong = all.filter((r) => codes(r)[0] === 'UNAUTHENTICATED').length;
      expect(wrong).toBe(5);
      expect(all.filter((r) => codes(r)[0] === 'RATE_LIMITED')).toHaveLength(25);
    });

    it('an unknown email takes as long as a wrong password for a known one', async () => {
      // Each pair from its own address (as a proxy on loopback says), so these failures do
      // not spend the allowance of the address the other tests sign in from.
      const timed = async (email: string, i: number) => {
        const started = performance.now();
        await login(api, email, 'not the password at all', `198.51.100.${i + 1}`);
        return performance.now() - started;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      // Accounts first (creating one signs in, which would overlap the next timing), then the
      // two kinds in alternating order, so neither always runs first after a pause.
      for (let i = 0; i < 6; i++) await api.user(`timing-${i}@example.com`);
      for (let i = 0; i < 6; i++) {
        const pair = [
          async () => known.push(await timed(`timing-${i}@example.com`, i)),
          async () => unknown.push(await timed(`nobody-${i}@example.com`, i)),
        ];
        if (i % 2) pair.reverse();
        for (const run of pair) await run();
      }
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      // The password check dominates both (tens of ms); an early answer would be ~1 ms.
      expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
      expect(median(known)).toBeGreaterThan(5);
    });

    it("an address's failures block it, whatever accounts it tries; a proxy's word counts from loopback", async () => {
      await api.user('shared-office@example.com');
      for (let i = 0; i < 20; i++) {
        await login(api, `spray-${i}@example.com`, 'Winter2026!', '203.0.113.7');
      }
      const blocked = await login(api, 'shared-office@example.com', PASSWORD, '203.0.113.7');
      expect(codes(blocked)).toEqual(['RATE_LIMITED']);
      // Another client behind the same proxy is not blocked.
      const fine = await login(api, 'shared-office@example.com', PASSWORD, '203.0.113.8');
      expect(fine.errors).toBeUndefined();
    });
  });

  it('no answer may be cached: queries, GET queries, errors and refusals alike', async () => {
    const { cookie } = await api.user('cache-check@example.com');
    const query = '{ viewer { user { email } } }';
    const answers = [
      await fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ query }),
      }),
      await fetch(`${api.url}?query=${encodeURIComponent(query)}`, {
        headers: { cookie, 'apollo-require-preflight': '1' },
      }),
      await fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ nope }' }),
      }),
      await fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-key' },
        body: JSON.stringify({ query }),
      }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 401]);
    const viaGet = (await answers[1]!.json()) as { data: { viewer: { user: { email: string } } } };
    expect(viaGet.data.viewer.user.email).toBe('cache-check@example.com');
    for (const answer of answers) expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  describe('sessions', () => {
    it('logoutEverywhere ends every session of the person; an admin can end them too', async () => {
      const first = await api.user('two-laptops@example.com');
      const second = await login(api, 'two-laptops@example.com', PASSWORD);
      expect(second.errors).toBeUndefined();
      const me = '{ viewer { user { email } } }';
      expect((await api.ok(first, me)).viewer.user.email).toBe('two-laptops@example.com');
      const ended = await api.ok(first, 'mutation { logoutEverywhere }');
      expect(ended.logoutEverywhere).toBe(2);
      expect((await api.ok(first, me)).viewer.user).toBeNull();

      const admin = await api.user('security-admin@example.com', { isAdmin: true });
      const lost = await api.user('lost-laptop@example.com');
      expect(
        (await api.ok(admin, 'mutation { revokeSessions(email: "lost-laptop@example.com") }'))
          .revokeSessions,
      ).toBe(1);
      expect((await api.ok(lost, me)).viewer.user).toBeNull();
    });
  });

  describe('reads are scoped to what the caller may see', () => {
    it("a colleague's memberships show only the projects the caller shares", async () => {
      const both = await api.user('both-lines@example.com', {
        projectId: seeded.projectId,
        role: 'ANNOTATOR',
      });
      await api.db.db.users.setMembership({
        projectId: other.projectId,
        email: 'both-lines@example.com',
        role: 'MANAGER',
      });
      const colleague = await api.user('one-line@example.com', {
        projectId: seeded.projectId,
        role: 'ANNOTATOR',
      });
      const item = seeded.labeled[3]!;
      const current = await api.db.prisma.label.findFirstOrThrow({
        where: { itemId: item.id, supersededBy: null },
      });
      await api.db.prisma.label.create({
        data: {
          projectId: seeded.projectId,
          itemId: item.id,
          labelClassId: current.labelClassId,
          source: 'HUMAN',
          annotatorId: both.id,
          supersedesId: current.id,
        },
      });
      const query = `query ($id: ID!) { item(id: $id) { label { annotator { email
        memberships { project { slug } role } } } } }`;
      const seen = await api.ok(colleague, query, { id: item.id });
      expect(seen.item.label.annotator.memberships).toEqual([
        { project: { slug }, role: 'ANNOTATOR' },
      ]);
      // The person sees their own, and a platform admin everything.
      const own = await api.ok(both, '{ viewer { user { memberships { project { slug } } } } }');
      expect(own.viewer.user.memberships).toHaveLength(2);
    });

    it('encoderVersions lists only encoders of the projects the caller is in', async () => {
      await api.db.db.encoders.create({
        name: 'another-customers-encoder',
        onnxBlobKey: 'x',
        sidecar: {},
        inputWidth: 28,
        inputHeight: 28,
        channels: 1,
        dims: 64,
      });
      const member = await api.user('encoders@example.com', {
        projectId: seeded.projectId,
        role: 'ANNOTATOR',
      });
      const admin = await api.user('encoders-admin@example.com', { isAdmin: true });
      const q = '{ encoderVersions { name } }';
      const memberSees = (await api.ok(member, q)).encoderVersions.map((e: any) => e.name);
      const adminSees = (await api.ok(admin, q)).encoderVersions.map((e: any) => e.name);
      expect(memberSees.length).toBeGreaterThan(0);
      expect(memberSees).not.toContain('another-customers-encoder');
      expect(adminSees).toContain('another-customers-encoder');
    });
  });

  describe('labels', () => {
    it('an import never replaces a label a person gave; it records the key that wrote it', async () => {
      const admin = await api.user('labels-admin@example.com', {
        projectId: seeded.projectId,
        role: 'ADMIN',
      });
      const annotator = await api.user('labels-annotator@example.com', {
        projectId: seeded.projectId,
        role: 'ANNOTATOR',
      });
      const made = await api.ok(
        admin,
        `mutation { createApiKey(project: "${slug}", name: "mes", role: INTEGRATOR) { secret apiKey { id } } }`,
      );
      const key = { apiKey: made.createApiKey.secret };
      const classes = await api.db.prisma.labelClass.findMany({
        where: { projectId: seeded.projectId },
      });
      const [human, auto] = [seeded.items[150]!, seeded.items[151]!];
      const otherClass = (itemClass: string) => classes.find((c) => c.id !== itemClass)!;
      // A person labels one image; the model auto-labels another.
      await api.ok(
        annotator,
        `mutation ($i: ID!, $c: ID!) { relabel(itemId: $i, labelClassId: $c, reason: "seen it") { id } }`,
        { i: human.id, c: human.hiddenClassId },
      );
      await api.db.prisma.label.create({
        data: {
          projectId: seeded.projectId,
          itemId: auto.id,
          labelClassId: auto.hiddenClassId!,
          source: 'AUTO',
          confidence: 0.99,
        },
      });
      const jsonl = [human, auto]
        .map((i) =>
          JSON.stringify({
            contentHash: i.contentHash,
            label: otherClass(i.hiddenClassId!).name,
          }),
        )
        .join('\n');
      const result = await api.ok(
        key,
        `mutation ($j: String!) { importLabels(project: "${slug}", jsonl: $j) {
          added conflicts { line contentHash reason } } }`,
        { j: jsonl },
      );
      expect(result.importLabels.added).toBe(1);
      expect(result.importLabels.conflicts).toEqual([
        { line: 1, contentHash: human.contentHash, reason: expect.stringMatching(/a person/) },
      ]);
      const current = async (itemId: string) =>
        api.db.prisma.label.findFirstOrThrow({ where: { itemId, supersededBy: null } });
      expect(await current(human.id)).toMatchObject({
        source: 'HUMAN',
        labelClassId: human.hiddenClassId,
      });
      expect(await current(auto.id)).toMatchObject({
        source: 'IMPORT',
        apiKeyId: made.createApiKey.apiKey.id,
        annotatorId: null,
      });
    });
  });

  describe('request bodies', () => {
    /** A raw multipart POST: the headers as given, the body written only if asked. */
    const post = (headers: Record<string, string>, body?: Buffer) =>
      new Promise<{ status: number; code: string }>((resolve, reject) => {
        const request = http.request(api.url, { method: 'POST', headers }, (response) => {
          let text = '';
          response.on('data', (c: Buffer) => (text += c.toString()));
          response.on('end', () => {
            resolve({
              status: response.statusCode!,
              code: (JSON.parse(text) as any).errors?.[0]?.extensions?.code,
            });
            request.destroy();
          });
        });
        request.on('error', reject);
        // Over the limit: a few bytes, never the rest; the answer must not wait for it.
        if (body) request.end(body);
        else request.write('--x\r\n');
      });
    const multipart = {
      'content-type': 'multipart/form-data; boundary=x',
      'apollo-require-preflight': '1',
    };

    it('an upload is refused from its headers: anonymous, of unknown length, or over the total', async () => {
      const manager = await api.user('bodies@example.com', {
        projectId: seeded.projectId,
        role: 'MANAGER',
      });
      const small = Buffer.from('--x--\r\n');
      expect(await post({ ...multipart, 'content-length': String(small.length) }, small)).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      expect(
        await post({ ...multipart, cookie: manager.cookie, 'transfer-encoding': 'chunked' }),
      ).toEqual({ status: 411, code: 'BAD_USER_INPUT' });
      const started = Date.now();
      expect(
        await post({
          ...multipart,
          cookie: manager.cookie,
          'content-length': String(500 * 2 ** 20),
        }),
      ).toEqual({ status: 413, code: 'BAD_USER_INPUT' });
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  it('a relabel takes its label from the budget under its lock: never more than is left', async () => {
    const manager = await api.user('relabel-budget@example.com', {
      projectId: other.projectId,
      role: 'MANAGER',
    });
    const budget = await api.db.db.budget.of(other.projectId);
    // Leave exactly three labels of budget.
    await api.db.db.budget.add({
      projectId: other.projectId,
      amount: 3 - budget.remaining,
      reason: 'test',
      userId: null,
    });
    const classes = await api.db.prisma.labelClass.findMany({
      where: { projectId: other.projectId },
    });
    const items = other.labeled.slice(0, 8);
    const answers = await Promise.all(
      items.map((item) =>
        api.gql(
          manager,
          `mutation ($i: ID!, $c: ID!) { relabel(itemId: $i, labelClassId: $c, reason: "again") { id } }`,
          { i: item.id, c: classes.find((c) => c.id !== item.hiddenClassId)!.id },
        ),
      ),
    );
    expect(answers.filter((a) => !a.errors)).toHaveLength(3);
    expect(answers.filter((a) => codes(a)[0] === 'BUDGET_EXHAUSTED')).toHaveLength(5);
    expect((await api.db.db.budget.of(other.projectId)).remaining).toBe(0);
    expect(
      await api.db.prisma.label.count({ where: { projectId: other.projectId, reason: 'again' } }),
    ).toBe(3);
  });

  describe('server-side folder imports', () => {
    const IMPORT = `mutation ($p: String!) { importFolder(project: "${slug}", path: $p) { imported failed } }`;
    let root: { cookie: string };

    beforeAll(async () => {
      root = await api.user('folder-root@example.com', { isAdmin: true });
      const secret = grayPng(28, 28, (i) => (i * 7) % 256);
      await writeFile(path.join(outside, 'secret.png'), secret);
      await mkdir(path.join(importRoot, 'line-4'));
      await writeFile(
        path.join(importRoot, 'line-4', 'part.png'),
        grayPng(28, 28, (i) => (i * 13) % 256),
      );
      // A link to a file outside the root, inside an allowed folder; a link to a folder outside.
      await symlink(path.join(outside, 'secret.png'), path.join(importRoot, 'line-4', 'link.png'));
      await symlink(outside, path.join(importRoot, 'escape'));
    });

    it('reads only real folders under the import root, and says the same for missing and forbidden', async () => {
      const refusal = async (p: string) => {
        const r = await api.gql(root, IMPORT, { p });
        expect(codes(r), p).toEqual(['BAD_USER_INPUT']);
        return r.errors![0]!.message.replace(p, '<path>');
      };
      const messages = await Promise.all([
        refusal(outside), // exists, outside
        refusal('/no/such/folder'), // does not exist
        refusal('../'), // climbs out
        refusal('escape'), // a link inside that leads outside
        refusal('line-4/part.png'), // a file, not a folder
      ]);
      expect(new Set(messages).size).toBe(1);
      const ok = await api.ok(root, IMPORT, { p: 'line-4' });
      // The linked file outside the root is not read.
      expect(ok.importFolder).toEqual({ imported: 1, failed: 0 });
    });
  });

  it('CSV exports neutralise cells a spreadsheet would run as formulas', async () => {
    const manager = await api.user('csv@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    const names = ['=cmd|calc!A0.png', '+1+1.png', '@SUM(A1).png', '-2+3.png'];
    const files = Object.fromEntries(
      names.map((name, n) => [
        `f.${n}`,
        { name, bytes: grayPng(28, 28, (i) => (i * (n + 17)) % 251) },
      ]),
    );
    const uploaded = await api.upload(
      manager,
      `mutation ($f: [Upload!]!) { importItems(project: "${slug}", files: $f) { imported } }`,
      { f: names.map(() => null) },
      files,
    );
    expect(uploaded.errors).toBeUndefined();
    expect(uploaded.data!.importItems.imported).toBe(4);
    const cls = (
      await api.db.prisma.labelClass.findFirstOrThrow({ where: { projectId: seeded.projectId } })
    ).id;
    for (const name of names) {
      const item = await api.db.prisma.item.findFirstOrThrow({
        where: { projectId: seeded.projectId, sourceRef: name },
      });
      await api.ok(
        manager,
        `mutation ($i: ID!, $c: ID!) { relabel(itemId: $i, labelClassId: $c, reason: "csv") { id } }`,
        { i: item.id, c: cls },
      );
    }
    const csv: string = (
      await api.ok(manager, `query { exportLabels(project: "${slug}", format: CSV) { content } }`)
    ).exportLabels.content;
    const cells = csv.split('\n').flatMap((line) => line.split(','));
    expect(cells.filter((c) => /^"?[=+@-]/.test(c))).toEqual([]);
    for (const name of names) expect(cells).toContain(`'${name}`);
  });
});

describe('with the proxy not trusted, and no import root', () => {
  let api: Api;
  let admin: { cookie: string };
  beforeAll(async () => {
    api = await startApi({
      config: (c) => ({ ...c, api: { ...c.api, trustedProxies: '192.0.2.1', importRoot: null } }),
    });
  });
  afterAll(() => api?.stop());

  it('a forged X-Forwarded-For does not buy a fresh allowance', async () => {
    admin = await api.user('no-root@example.com', { isAdmin: true });
    for (let i = 0; i < 20; i++) {
      await login(api, `spray-${i}@example.com`, 'Winter2026!', `198.51.100.${i}`);
    }
    const blocked = await login(api, 'no-root@example.com', PASSWORD, '198.51.100.250');
    expect(codes(blocked)).toEqual(['RATE_LIMITED']);
  });

  it('folder imports are off without an import root', async () => {
    await api.seedProject({ limit: 20, labeled: 0, slug: 'fm-no-root' });
    const r = await api.gql(
      admin,
      `mutation { importFolder(project: "fm-no-root", path: "/tmp") { imported } }`,
    );
    expect(codes(r)).toEqual(['FORBIDDEN']);
    expect(r.errors![0]!.message).toMatch(/BEANSTALK_IMPORT_ROOT/);
  });
});

describe('with a low request limit', () => {
  let api: Api;
  beforeAll(async () => {
    api = await startApi({ config: (c) => ({ ...c, api: { ...c.api, rateLimitPerSecond: 1 } }) });
  });
  afterAll(() => api?.stop());

  it('a fresh made-up credential per request does not buy a fresh allowance', async () => {
    const answers = [];
    for (let i = 0; i < 15; i++) {
      answers.push(await api.gql({ apiKey: `bsk_made_up_${i}` }, '{ health { ok } }'));
    }
    // 10 requests per 10 s from this address: the first ten are refused as unknown keys.
    expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(401));
    expect(answers.slice(10).map((a) => a.status)).toEqual(Array(5).fill(429));
  });
});
