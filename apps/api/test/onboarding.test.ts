import { createHash } from 'node:crypto';
import { grayPng } from '@beanstalk/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api, type Caller } from './harness.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const CREATE = `mutation ($input: CreateProjectInput!) {
  createProject(input: $input) { slug myRole classes { name hotkey isNormal colour } }
}`;
const IMPORT = `mutation ($slug: String!, $f: [Upload!]!, $split: Split, $labels: [String]) {
  importItems(project: $slug, files: $f, split: $split, labels: $labels) {
    imported duplicates failed errors { index file reason }
  }
}`;

describe('a new team starts through the API: project, labeled uploads, resume by content hash', () => {
  let api: Api;
  let manager: Caller;
  let annotator: Caller;
  let key: Caller;

  beforeAll(async () => {
    api = await startApi();
    const seeded = await api.seedProject({ limit: 60, labeled: 20, slug: 'fm-onboard' });
    manager = await api.user('lead@example.com', {
      projectId: seeded.projectId,
      role: 'MANAGER',
    });
    annotator = await api.user('annotator@example.com', {
      projectId: seeded.projectId,
      role: 'ANNOTATOR',
    });
    const root = await api.user('root@example.com', { isAdmin: true });
    const created = await api.ok(
      root,
      `mutation { createApiKey(project: "fm-onboard", name: "cam", role: MANAGER) { secret } }`,
    );
    key = { apiKey: created.createApiKey.secret };
  });
  afterAll(() => api?.stop());

  it('a manager of one project creates another with its classes and budget, and becomes its admin', async () => {
    const viewer = `{ viewer { mayCreateProjects } }`;
    expect((await api.ok(manager, viewer)).viewer.mayCreateProjects).toBe(true);
    expect((await api.ok(annotator, viewer)).viewer.mayCreateProjects).toBe(false);
    const input = {
      slug: 'caps-line-3',
      name: '  Caps, line 3 ',
      roundSize: 40,
      budget: 300,
      classes: [
        { name: 'ok', colour: '#2e7d32', hotkey: '1', isNormal: true },
        { name: 'scratch', colour: '#c62828', hotkey: '2' },
        { name: 'dent', hotkey: '3' },
      ],
    };
    const { createProject } = await api.ok(manager, CREATE, { input });
    expect(createProject.myRole).toBe('ADMIN');
    expect(createProject.classes.map((c: { name: string }) => c.name)).toEqual([
      'ok',
      'scratch',
      'dent',
    ]);
    expect(createProject.classes[0]).toMatchObject({ hotkey: '1', isNormal: true });
    const project = await api.ok(
      manager,
      `{ project(slug: "caps-line-3") { name roundSize members { role user { email } } }
         budget(project: "caps-line-3") { total remaining } }`,
    );
    expect(project.project).toMatchObject({ name: 'Caps, line 3', roundSize: 40 });
    expect(project.project.members).toEqual([
      { role: 'ADMIN', user: { email: 'lead@example.com' } },
    ]);
    expect(project.budget).toEqual({ total: 300, remaining: 300 });
    // Annotators may not; nor may an API key, whatever its role.
    expect(codes(await api.gql(annotator, CREATE, { input: { ...input, slug: 'x-1' } }))).toEqual([
      'FORBIDDEN',
    ]);
    expect(codes(await api.gql(key, CREATE, { input: { ...input, slug: 'x-2' } }))).toEqual([
      'FORBIDDEN',
    ]);
  });

  it('a manager chooses how rounds ask for labels; an unknown strategy is refused', async () => {
    const READ = `{ project(slug: "fm-onboard") { selectionStrategy } }`;
    expect((await api.ok(manager, READ)).project.selectionStrategy).toBe('TYPICLUST_MARGIN');
    const SET = `mutation ($s: SelectionStrategy!) {
      updateProjectSettings(project: "fm-onboard", input: { selectionStrategy: $s }) { selectionStrategy } }`;
    expect((await api.ok(manager, SET, { s: 'RANDOM' })).updateProjectSettings).toEqual({
      selectionStrategy: 'RANDOM',
    });
    expect((await api.ok(annotator, READ)).project.selectionStrategy).toBe('RANDOM');
    expect(codes(await api.gql(manager, SET, { s: 'CORESET' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await api.gql(annotator, SET, { s: 'MARGIN' }))).toEqual(['FORBIDDEN']);
    expect((await api.ok(manager, READ)).project.selectionStrategy).toBe('RANDOM');
    await api.ok(manager, SET, { s: 'TYPICLUST_MARGIN' });
  });

  it('every problem of a new project comes back at once, named by field, and nothing is created', async () => {
    const before = await api.db.prisma.project.count();
    const r = await api.gql(manager, CREATE, {
      input: {
        slug: 'Caps Line',
        name: 'Caps',
        budget: -5,
        roundSize: 0,
        classes: [
          { name: 'ok', hotkey: '1' },
          { name: ' padded', hotkey: '2' },
          { name: 'dent', hotkey: '1' },
          { name: 'ok', hotkey: 's' },
        ],
      },
    });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(Object.keys(r.errors![0]!.extensions!.fields as object).sort()).toEqual([
      'budget',
      'classes.1.name',
      'classes.2.hotkey',
      'classes.3.hotkey',
      'classes.3.name',
      'roundSize',
      'slug',
    ]);
    // A taken slug is a conflict on the slug field.
    const taken = await api.gql(manager, CREATE, {
      input: { slug: 'caps-line-3', name: 'Again', classes: [{ name: 'a' }, { name: 'b' }] },
    });
    expect(codes(taken)).toEqual(['CONFLICT']);
    expect(taken.errors![0]!.extensions!.fields).toHaveProperty('slug');
    expect(await api.db.prisma.project.count()).toBe(before);
  });

  it('uploads carry labels by class name; each failure names its file by position; a resumed upload sends nothing twice', async () => {
    const images = [1, 2, 3].map((n) => grayPng(24, 24, (i) => (i * n * 7) % 251));
    const broken = grayPng(24, 24, () => 9).subarray(0, 40);
    const files = {
      'f.0': { name: 'ok/a.png', bytes: images[0]! },
      'f.1': { name: 'weird/b.png', bytes: images[1]! },
      'f.2': { name: 'c.png', bytes: images[2]! },
      'f.3': { name: 'ok/broken.png', bytes: broken },
    };
    const variables = {
      slug: 'caps-line-3',
      split: 'EVAL',
      labels: ['ok', 'weird', null, 'ok'],
      f: [null, null, null, null],
    };
    const first = await api.upload(manager, IMPORT, variables, files);
    expect(first.errors).toBeUndefined();
    const result = first.data!.importItems;
    expect(result).toMatchObject({ imported: 2, duplicates: 0, failed: 2 });
    expect(result.errors.map((e: { index: number }) => e.index)).toEqual([1, 3]);
    expect(result.errors[0].reason).toMatch(/no class named "weird".*ok, scratch, dent/);
    expect(result.errors[1].reason).toMatch(/decode|PNG|truncat|image/i);
    const counts = await api.ok(
      manager,
      `{ project(slug: "caps-line-3") { itemCounts { eval evalLabeled labeled } } }`,
    );
    expect(counts.project.itemCounts).toEqual({ eval: 2, evalLabeled: 1, labeled: 1 });

    // What arrived is known by content hash; what failed and what was never sent is not.
    const hashes = [...images, broken].map(sha256);
    const known = await api.ok(
      manager,
      `query ($h: [String!]!) { knownContentHashes(project: "caps-line-3", hashes: $h) }`,
      { h: hashes },
    );
    expect(known.knownContentHashes.sort()).toEqual([hashes[0], hashes[2]].sort());
    // Sent again anyway: stored once.
    const again = await api.upload(manager, IMPORT, variables, files);
    expect(again.data!.importItems).toMatchObject({ imported: 0, duplicates: 2, failed: 2 });
  });

  it('refuses malformed upload requests before reading them', async () => {
    const one = { 'f.0': { name: 'a.png', bytes: grayPng(8, 8, (i) => i) } };
    const mismatch = await api.upload(
      manager,
      IMPORT,
      { slug: 'caps-line-3', labels: ['ok', 'ok'], f: [null] },
      one,
    );
    expect(codes(mismatch)).toEqual(['BAD_USER_INPUT']);
    const q = `query ($h: [String!]!) { knownContentHashes(project: "caps-line-3", hashes: $h) }`;
    expect(codes(await api.gql(manager, q, { h: ['ABC'] }))).toEqual(['BAD_USER_INPUT']);
    const many = Array.from({ length: 1001 }, (_, i) => sha256(Buffer.from(String(i))));
    expect(codes(await api.gql(manager, q, { h: many }))).toEqual(['BAD_USER_INPUT']);
    const limits = await api.ok(
      manager,
      `{ uploadLimits { maxFiles maxFileBytes maxRequestBytes } }`,
    );
    expect(limits.uploadLimits).toEqual({
      maxFiles: api.services.config.api.maxFiles,
      maxFileBytes: api.services.config.api.maxUploadBytes,
      maxRequestBytes: api.services.config.api.maxRequestBytes,
    });
    expect(codes(await api.gql(null, `{ uploadLimits { maxFiles } }`))).toEqual([
      'UNAUTHENTICATED',
    ]);
  });
});
