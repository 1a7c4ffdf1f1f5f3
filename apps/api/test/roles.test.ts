import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCampaign, startEncoderTraining } from '@beanstalk/orchestration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api, type Caller, type GqlResponse } from './harness.ts';

type Who = 'platformAdmin' | 'admin' | 'manager' | 'annotator' | 'integrator';
const WHO: Who[] = ['platformAdmin', 'admin', 'manager', 'annotator', 'integrator'];

/**
 * Who may do what, written out by hand (not derived from the server's permission table) so a
 * change to the table that breaks this contract fails here.
 */
const EXPECTED: Record<string, Who[]> = {
  // Admins and managers of some project may start another (and become its admin).
  createProject: ['platformAdmin', 'admin', 'manager'],
  createUser: ['platformAdmin'],
  updateProjectSettings: ['platformAdmin', 'admin', 'manager'],
  setAutoAcceptPrecisionTarget: ['platformAdmin', 'admin', 'manager'],
  addLabelClass: ['platformAdmin', 'admin', 'manager'],
  updateLabelClass: ['platformAdmin', 'admin', 'manager'],
  retireLabelClass: ['platformAdmin', 'admin', 'manager'],
  addBudget: ['platformAdmin', 'admin', 'manager'],
  setMembership: ['platformAdmin', 'admin'],
  createApiKey: ['platformAdmin', 'admin'],
  revokeApiKey: ['platformAdmin', 'admin'],
  classify: ['platformAdmin', 'admin', 'manager', 'annotator', 'integrator'],
  classifyAndStore: ['platformAdmin', 'admin', 'manager', 'integrator'],
  classifyBatch: ['platformAdmin', 'admin', 'manager', 'annotator', 'integrator'],
  classifyBase64: ['platformAdmin', 'admin', 'manager', 'annotator', 'integrator'],
  importItems: ['platformAdmin', 'admin', 'manager', 'integrator'],
  importFolder: ['platformAdmin'],
  importLabels: ['platformAdmin', 'admin', 'manager', 'integrator'],
  claimNextTask: ['platformAdmin', 'admin', 'manager', 'annotator'],
  submitLabel: ['platformAdmin', 'admin', 'manager', 'annotator'],
  skipTask: ['platformAdmin', 'admin', 'manager', 'annotator'],
  relabel: ['platformAdmin', 'admin', 'manager', 'annotator'],
  revertAutoLabel: ['platformAdmin', 'admin', 'manager'],
  bulkRevertAutoLabels: ['platformAdmin', 'admin', 'manager'],
  startCampaign: ['platformAdmin', 'admin', 'manager'],
  cancelCampaign: ['platformAdmin', 'admin', 'manager'],
  startRound: ['platformAdmin', 'admin', 'manager'],
  cancelRound: ['platformAdmin', 'admin', 'manager'],
  promoteHeadVersion: ['platformAdmin', 'admin', 'manager'],
  rollbackHeadVersion: ['platformAdmin', 'admin', 'manager'],
  trainEncoder: ['platformAdmin', 'admin', 'manager'],
  cancelEncoderTraining: ['platformAdmin', 'admin', 'manager'],
  switchEncoder: ['platformAdmin', 'admin', 'manager'],
  createWebhookEndpoint: ['platformAdmin', 'admin', 'manager'],
  updateWebhookEndpoint: ['platformAdmin', 'admin', 'manager'],
  deleteWebhookEndpoint: ['platformAdmin', 'admin', 'manager'],
  pingWebhookEndpoint: ['platformAdmin', 'admin', 'manager'],
  redeliverWebhook: ['platformAdmin', 'admin', 'manager'],
  webhookEndpoints: ['platformAdmin', 'admin', 'manager'],
  reviewLabelIssue: ['platformAdmin', 'admin', 'manager'],
  // Queries that are not for everyone in a project.
  labelIssues: ['platformAdmin', 'admin', 'manager'],
  autoLabels: ['platformAdmin', 'admin', 'manager'],
  exportLabels: ['platformAdmin', 'admin', 'manager', 'integrator'],
  knownContentHashes: ['platformAdmin', 'admin', 'manager', 'integrator'],
  apiKeys: ['platformAdmin', 'admin'],
  members: ['platformAdmin', 'admin'],
  users: ['platformAdmin'],
  revokeSessions: ['platformAdmin'],
};

describe('role x operation matrix', () => {
  let api: Api;
  let seeded: Awaited<ReturnType<Api['seedProject']>>;
  const callers = {} as Record<Who | 'outsider', Caller>;
  const slug = 'fm-roles';
  let n = 0;
  let flagged = 0;
  const unique = () => `${Date.now().toString(36)}${n++}`;
  let folder: string;

  beforeAll(async () => {
    // Folder imports read only under the import root.
    const importRoot = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-roles-'));
    folder = path.join(importRoot, 'line-3');
    await mkdir(folder);
    api = await startApi({ config: (c) => ({ ...c, api: { ...c.api, importRoot } }) });
    seeded = await api.seedProject({ limit: 200, labeled: 100, slug, budget: 100_000 });
    const { projectId } = seeded;
    callers.platformAdmin = await api.user('root@example.com', { isAdmin: true });
    callers.admin = await api.user('admin@example.com', { projectId, role: 'ADMIN' });
    callers.manager = await api.user('manager@example.com', { projectId, role: 'MANAGER' });
    callers.annotator = await api.user('annotator@example.com', { projectId, role: 'ANNOTATOR' });
    callers.outsider = await api.user('outsider@example.com');
    await api.user('annotator-2@example.com', { projectId, role: 'ANNOTATOR' });
    const key = await api.ok(
      callers.platformAdmin,
      `mutation { createApiKey(project: "${slug}", name: "line 3 camera", role: INTEGRATOR) { secret apiKey { prefix role } } }`,
    );
    expect(key.createApiKey.apiKey.role).toBe('INTEGRATOR');
    expect(key.createApiKey.secret.startsWith(key.createApiKey.apiKey.prefix)).toBe(true);
    callers.integrator = { apiKey: key.createApiKey.secret };
    // A second head with the same vectors, promoted, so there is something to roll back to.
    const second = { id: await api.copyHead(seeded.headVersionId) };
    await api.ok(
      callers.platformAdmin,
      `mutation ($id: ID!) { promoteHeadVersion(id: $id) { active } }`,
      { id: second.id },
    );
    await writeFile(path.join(folder, 'a.png'), await api.blobs.get(seeded.items[0]!.blobKey));
  });
  afterAll(() => api?.stop());

  const db = () => api.db.prisma;
  const image = async () => ({
    name: 'probe.png',
    bytes: await api.blobs.get(seeded.items[1]!.blobKey),
  });
  // One endpoint for the operations that keep it (a project has at most 20); `fresh` for deletes.
  let kept: Promise<{ id: string }> | null = null;
  const webhookEndpoint = (fresh = false) => {
    const make = () =>
      api.db.db.webhooks.create({
        projectId: seeded.projectId,
        url: 'https://hooks.example.com/roles',
        description: '',
        events: ['ROUND_COMPLETED'],
        budgetBelow: null,
        createdById: null,
      });
    if (fresh) return make();
    kept ??= make();
    return kept;
  };
  const roundNumber = async () =>
    ((await db().round.aggregate({ _max: { number: true } }))._max.number ?? 0) + 1;

  async function openTask() {
    const round = await db().round.create({
      data: { projectId: seeded.projectId, number: await roundNumber(), status: 'LABELING' },
    });
    const item = seeded.items.filter((i) => i.split === 'POOL')[150 + (n++ % 50)]!;
    return db().labelTask.create({
      data: { projectId: seeded.projectId, roundId: round.id, itemId: item.id },
    });
  }

  async function autoLabeled() {
    const item = seeded.items.filter((i) => i.split === 'POOL')[100 + (n++ % 50)]!;
    const current = await db().label.findFirst({ where: { itemId: item.id, supersededBy: null } });
    await db().label.create({
      data: {
        projectId: seeded.projectId,
        itemId: item.id,
        labelClassId: item.hiddenClassId!,
        source: 'AUTO',
        confidence: 0.99,
        supersedesId: current?.id ?? null,
      },
    });
    return item.id;
  }

  const terminate = async (workflowId: string) =>
    (await api.services.temporal()).workflow.getHandle(workflowId).terminate('role test');

  const operations: Record<string, (as: Caller) => Promise<GqlResponse>> = {
    createProject: (as) =>
      api.gql(
        as,
        `mutation ($s: String!) { createProject(input: { slug: $s, name: "Beans", classes: [{ name: "ok" }, { name: "defect", isNormal: false }] }) { id } }`,
        { s: `p-${unique()}` },
      ),
    createUser: (as) =>
      api.gql(
        as,
        `mutation ($e: String!) { createUser(email: $e, name: "New", password: "long enough password") { id } }`,
        { e: `${unique()}@example.com` },
      ),
    updateProjectSettings: (as) =>
      api.gql(
        as,
        `mutation { updateProjectSettings(project: "${slug}", input: { k: 7, roundSize: 50 }) { k } }`,
      ),
    setAutoAcceptPrecisionTarget: (as) =>
      api.gql(
        as,
        `mutation { setAutoAcceptPrecisionTarget(project: "${slug}", target: 0.97) { autoAcceptPrecisionTarget } }`,
      ),
    addLabelClass: (as) =>
      api.gql(
        as,
        `mutation ($n: String!) { addLabelClass(project: "${slug}", input: { name: $n }) { id } }`,
        { n: `c-${unique()}` },
      ),
    updateLabelClass: async (as) => {
      const c = await db().labelClass.findFirstOrThrow({
        where: { projectId: seeded.projectId, name: 'Bag' },
      });
      return api.gql(
        as,
        `mutation ($id: ID!) { updateLabelClass(id: $id, input: { colour: "#aa3300" }) { colour } }`,
        { id: c.id },
      );
    },
    retireLabelClass: async (as) => {
      const last = await db().labelClass.aggregate({
        where: { projectId: seeded.projectId },
        _max: { position: true },
      });
      const c = await db().labelClass.create({
        data: {
          projectId: seeded.projectId,
          name: `old-${unique()}`,
          position: last._max.position! + 1,
        },
      });
      return api.gql(as, `mutation ($id: ID!) { retireLabelClass(id: $id) { retired } }`, {
        id: c.id,
      });
    },
    addBudget: (as) =>
      api.gql(
        as,
        `mutation { addBudget(project: "${slug}", amount: 10, reason: "more") { total } }`,
      ),
    setMembership: async (as) => {
      const email = `${unique()}@example.com`;
      await db().user.create({ data: { email, name: 'member' } });
      return api.gql(
        as,
        `mutation ($e: String!) { setMembership(project: "${slug}", email: $e, role: ANNOTATOR) { role } }`,
        { e: email },
      );
    },
    createApiKey: (as) =>
      api.gql(
        as,
        `mutation { createApiKey(project: "${slug}", name: "k", role: INTEGRATOR) { secret } }`,
      ),
    revokeApiKey: async (as) => {
      const key = await db().apiKey.create({
        data: {
          projectId: seeded.projectId,
          role: 'INTEGRATOR',
          name: 'old',
          prefix: 'bsk_x',
          keyHash: unique(),
        },
      });
      return api.gql(as, `mutation ($id: ID!) { revokeApiKey(id: $id) { revoked } }`, {
        id: key.id,
      });
    },
    classify: async (as) =>
      api.upload(
        as,
        `mutation ($i: Upload!) { classify(project: "${slug}", image: $i) { confidence } }`,
        { i: null },
        { i: await image() },
      ),
    classifyAndStore: async (as) =>
      api.upload(
        as,
        `mutation ($i: Upload!) { classify(project: "${slug}", image: $i, store: true) { item { id } } }`,
        { i: null },
        { i: await image() },
      ),
    importItems: async (as) =>
      api.upload(
        as,
        `mutation ($f: [Upload!]!) { importItems(project: "${slug}", files: $f) { imported duplicates } }`,
        { f: [null] },
        { 'f.0': await image() },
      ),
    members: (as) => api.gql(as, `{ project(slug: "${slug}") { members { role } } }`),
    knownContentHashes: (as) =>
      api.gql(as, `query ($h: [String!]!) { knownContentHashes(project: "${slug}", hashes: $h) }`, {
        h: ['0'.repeat(64)],
      }),
    importFolder: (as) =>
      api.gql(
        as,
        `mutation ($p: String!) { importFolder(project: "${slug}", path: $p) { imported duplicates } }`,
        { p: folder },
      ),
    importLabels: (as) => {
      const item = seeded.labeled[50]!;
      const cls = 'Trouser';
      return db()
        .labelClass.findFirstOrThrow({ where: { id: item.hiddenClassId! } })
        .then((c) =>
          api.gql(
            as,
            `mutation ($j: String!) { importLabels(project: "${slug}", jsonl: $j) { added } }`,
            {
              j: JSON.stringify({ contentHash: item.contentHash, label: c.name ?? cls }),
            },
          ),
        );
    },
    claimNextTask: (as) => api.gql(as, `mutation { claimNextTask(project: "${slug}") { id } }`),
    submitLabel: async (as) => {
      const task = await openTask();
      const item = seeded.items.find((i) => i.id === task.itemId)!;
      return api.gql(
        as,
        `mutation ($t: ID!, $c: ID!) { submitLabel(taskId: $t, labelClassId: $c) { duplicate } }`,
        { t: task.id, c: item.hiddenClassId! },
      );
    },
    skipTask: async (as) => {
      const task = await openTask();
      return api.gql(as, `mutation ($t: ID!) { skipTask(taskId: $t) { status } }`, { t: task.id });
    },
    relabel: async (as) => {
      const item = seeded.labeled[n++ % 50]!;
      const current = await db().label.findFirstOrThrow({
        where: { itemId: item.id, supersededBy: null },
      });
      const other = await db().labelClass.findFirstOrThrow({
        where: { projectId: seeded.projectId, id: { not: current.labelClassId! }, retiredAt: null },
      });
      return api.gql(
        as,
        `mutation ($i: ID!, $c: ID!) { relabel(itemId: $i, labelClassId: $c, reason: "matrix") { id } }`,
        { i: item.id, c: other.id },
      );
    },
    reviewLabelIssue: async (as) => {
      // A fresh open issue on a labeled item the relabel operation leaves alone.
      const item = seeded.labeled[50 + (flagged++ % 50)]!;
      const label = await db().label.findFirstOrThrow({
        where: { itemId: item.id, supersededBy: null },
      });
      const other = await db().labelClass.findFirstOrThrow({
        where: { projectId: seeded.projectId, id: { not: label.labelClassId! } },
      });
      await db().labelIssue.deleteMany({ where: { labelId: label.id } });
      await api.db.db.labelIssues.record({
        projectId: seeded.projectId,
        roundId: null,
        found: [
          {
            labelId: label.id,
            itemId: item.id,
            suggestedClassId: other.id,
            score: 0.9,
            selfConfidence: 0.1,
          },
        ],
        checkedLabelIds: [],
      });
      const issue = await db().labelIssue.findUniqueOrThrow({ where: { labelId: label.id } });
      return api.gql(
        as,
        `mutation ($i: ID!) { reviewLabelIssue(issueId: $i, decision: KEEP) { status } }`,
        { i: issue.id },
      );
    },
    labelIssues: (as) => api.gql(as, `query { labelIssues(project: "${slug}") { totalCount } }`),
    autoLabels: (as) => api.gql(as, `query { autoLabels(project: "${slug}") { totalCount } }`),
    revertAutoLabel: async (as) =>
      api.gql(as, `mutation ($i: ID!) { revertAutoLabel(itemId: $i) { source } }`, {
        i: await autoLabeled(),
      }),
    bulkRevertAutoLabels: async (as) => {
      const task = await openTask();
      return api.gql(as, `mutation ($r: ID!) { bulkRevertAutoLabels(roundId: $r) }`, {
        r: task.roundId,
      });
    },
    startCampaign: async (as) => {
      const r = await api.gql(
        as,
        `mutation { startCampaign(project: "${slug}", maxRounds: 1) { workflowId } }`,
      );
      if (r.data?.startCampaign) await terminate(r.data.startCampaign.workflowId);
      return r;
    },
    cancelCampaign: async (as) => {
      const handle = await startCampaign(
        { db: api.db.db, client: await api.services.temporal() },
        { projectId: seeded.projectId },
        api.services.queues,
      );
      const r = await api.gql(as, `mutation { cancelCampaign(project: "${slug}") }`);
      await handle.terminate('role test');
      return r;
    },
    startRound: async (as) => {
      const r = await api.gql(as, `mutation { startRound(project: "${slug}") { workflowId } }`);
      if (r.data?.startRound) await terminate(r.data.startRound.workflowId);
      return r;
    },
    cancelRound: async (as) => {
      const task = await openTask();
      return api.gql(as, `mutation ($r: ID!) { cancelRound(id: $r) { id } }`, { r: task.roundId });
    },
    promoteHeadVersion: async (as) => {
      const p = await db().project.findUniqueOrThrow({ where: { id: seeded.projectId } });
      return api.gql(as, `mutation ($h: ID!) { promoteHeadVersion(id: $h) { active } }`, {
        h: p.activeHeadVersionId,
      });
    },
    rollbackHeadVersion: (as) =>
      api.gql(as, `mutation { rollbackHeadVersion(project: "${slug}") { active } }`),
    trainEncoder: async (as) => {
      const r = await api.gql(
        as,
        `mutation { trainEncoder(project: "${slug}", objective: AE, epochs: 1) { workflowId } }`,
      );
      if (r.data?.trainEncoder) await terminate(r.data.trainEncoder.workflowId);
      return r;
    },
    cancelEncoderTraining: async (as) => {
      const handle = await startEncoderTraining(
        await api.services.temporal(),
        { projectId: seeded.projectId, objective: 'ae', epochs: 1 },
        api.services.queues,
      );
      const r = await api.gql(as, `mutation { cancelEncoderTraining(project: "${slug}") }`);
      await handle.terminate('role test');
      return r;
    },
    // To the encoder it uses: allowed, and changes nothing.
    switchEncoder: (as) =>
      api.gql(
        as,
        `mutation ($e: ID!) { switchEncoder(project: "${slug}", encoderVersionId: $e) { id } }`,
        { e: seeded.encoderVersionId },
      ),
    classifyBatch: async (as) =>
      api.upload(
        as,
        `mutation ($i: [Upload!]!) { classifyBatch(project: "${slug}", images: $i) { confidence } }`,
        { i: [null] },
        { 'i.0': await image() },
      ),
    classifyBase64: async (as) =>
      api.gql(
        as,
        `mutation ($i: [Base64Image!]!) { classifyBase64(project: "${slug}", images: $i) { confidence } }`,
        { i: [{ data: Buffer.from((await image()).bytes).toString('base64') }] },
      ),
    createWebhookEndpoint: (as) =>
      api.gql(
        as,
        `mutation { createWebhookEndpoint(project: "${slug}", input: { url: "https://hooks.example.com/roles", events: [ROUND_COMPLETED] }) { secret } }`,
      ),
    updateWebhookEndpoint: async (as) =>
      api.gql(
        as,
        `mutation ($id: ID!) { updateWebhookEndpoint(id: $id, input: { url: "https://hooks.example.com/roles", events: [ROUND_OPENED] }) { id } }`,
        { id: (await webhookEndpoint()).id },
      ),
    deleteWebhookEndpoint: async (as) =>
      api.gql(as, `mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) }`, {
        id: (await webhookEndpoint(true)).id,
      }),
    pingWebhookEndpoint: async (as) =>
      api.gql(as, `mutation ($id: ID!) { pingWebhookEndpoint(id: $id) { id } }`, {
        id: (await webhookEndpoint()).id,
      }),
    redeliverWebhook: async (as) =>
      api.gql(as, `mutation ($id: ID!) { redeliverWebhook(id: $id) { id } }`, {
        id: (await api.db.db.webhooks.ping((await webhookEndpoint()).id)).id,
      }),
    webhookEndpoints: (as) =>
      api.gql(as, `query { webhookEndpoints(project: "${slug}") { id deliveries { id } } }`),
    exportLabels: (as) =>
      api.gql(as, `query { exportLabels(project: "${slug}", format: CSV) { count } }`),
    apiKeys: (as) => api.gql(as, `query { apiKeys(project: "${slug}") { prefix } }`),
    users: (as) => api.gql(as, `query { users { email } }`),
    revokeSessions: (as) =>
      api.gql(as, `mutation { revokeSessions(email: "annotator-2@example.com") }`),
  };

  it('covers every mutation in the schema', async () => {
    const mutations = await api.ok(
      callers.platformAdmin,
      `{ __type(name: "Mutation") { fields { name } } }`,
    );
    const names: string[] = mutations.__type.fields.map((f: { name: string }) => f.name);
    // Signing in and out is for everyone (and tested with sessions in security.test.ts).
    const notInMatrix = names.filter(
      (m) => !(m in EXPECTED) && !['login', 'logout', 'logoutEverywhere'].includes(m),
    );
    expect(notInMatrix).toEqual([]);
  });

  for (const [operation, allowed] of Object.entries(EXPECTED)) {
    it(`${operation}: ${allowed.join(', ')} may; the others get FORBIDDEN`, async () => {
      for (const who of WHO) {
        const r = await operations[operation]!(callers[who]);
        if (allowed.includes(who)) {
          expect(r.errors, `${who} ${operation}`).toBeUndefined();
        } else {
          expect(codes(r), `${who} ${operation}`).toEqual(['FORBIDDEN']);
        }
      }
      const outsider = await operations[operation]!(callers.outsider);
      expect(['FORBIDDEN', 'NOT_FOUND'], `outsider ${operation}`).toContain(codes(outsider)[0]);
      const anonymous = await operations[operation]!(null);
      expect(codes(anonymous), `anonymous ${operation}`).toEqual(['UNAUTHENTICATED']);
    });
  }

  it('reads are open to every role of the project and closed to others', async () => {
    const query = `query { project(slug: "${slug}") { myRole itemCounts { total labeled } }
      budget(project: "${slug}") { remaining } rounds(project: "${slug}") { number }
      metrics(project: "${slug}") { snapshots { macroF1 } } headVersions(project: "${slug}") { active } }`;
    for (const who of WHO) {
      const r = await api.gql(callers[who], query);
      expect(r.errors, who).toBeUndefined();
      expect(r.data!.project.itemCounts.total).toBeGreaterThan(0);
    }
    expect(codes(await api.gql(callers.outsider, query))[0]).toBe('FORBIDDEN');
    const anonymous = await api.gql(null, query);
    expect(anonymous.status).toBe(200);
    expect(codes(anonymous)[0]).toBe('UNAUTHENTICATED');
    // A revoked key stops working at once.
    const key = await api.ok(
      callers.admin,
      `mutation { createApiKey(project: "${slug}", name: "temp", role: MANAGER) { secret apiKey { id } } }`,
    );
    const asKey = { apiKey: key.createApiKey.secret };
    expect((await api.gql(asKey, query)).errors).toBeUndefined();
    await api.ok(callers.admin, `mutation ($id: ID!) { revokeApiKey(id: $id) { revoked } }`, {
      id: key.createApiKey.apiKey.id,
    });
    const revoked = await api.gql(asKey, query);
    expect(revoked.status).toBe(401);
    expect(codes(revoked)).toEqual(['UNAUTHENTICATED']);
  });
});
