// Subscriptions over WebSocket against the real API server and database: who may open a
// socket, what may run on it, and that changes written the way the workers write them (the
// round repository, the budget mutation) reach a subscriber through Postgres' LISTEN/NOTIFY in
// order, also after the listening connection was killed. A whole round run by the workflow is
// watched in the browser tests (apps/web/test/e2e.test.ts).
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startApi, type Api } from './harness.ts';

describe('subscriptions over WebSocket', () => {
  let api: Api;
  let wsUrl: string;
  let manager: { cookie: string };
  let outsider: { cookie: string };
  let projectId: string;
  const slug = 'fm-live';
  const clients: Client[] = [];

  beforeAll(async () => {
    api = await startApi();
    wsUrl = api.url.replace(/^http/, 'ws');
    ({ projectId } = await api.seedProject({ limit: 60, labeled: 30, slug }));
    manager = await api.user('live-manager@example.com', { projectId, role: 'MANAGER' });
    outsider = await api.user('live-outsider@example.com');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await api?.stop();
  });

  /** A graphql-ws client that sends these headers with its upgrade request. */
  function connect(
    headers: Record<string, string> = {},
    connectionParams?: Record<string, unknown>,
  ): { client: Client; closed: Promise<{ code: number; reason: string }> } {
    let closedWith: (c: { code: number; reason: string }) => void = () => undefined;
    const closed = new Promise<{ code: number; reason: string }>((r) => (closedWith = r));
    const client = createClient({
      url: wsUrl,
      connectionParams,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols: string[]) {
          super(url, protocols, { headers });
        }
      },
      on: {
        closed: (event) => {
          const e = event as { code: number; reason: string | Buffer };
          closedWith({ code: e.code, reason: String(e.reason) });
        },
      },
    });
    clients.push(client);
    return { client, closed };
  }

  /** Subscribes and collects what arrives; `errors` holds an operation's refusal. */
  function watch(client: Client, query: string) {
    const events: Record<string, any>[] = [];
    const errors: { message: string; extensions?: { code?: string } }[] = [];
    let completed = false;
    const stop = client.subscribe(
      { query },
      {
        next: (result) => {
          if (result.errors) errors.push(...(result.errors as typeof errors));
          if (result.data) events.push(result.data);
        },
        error: (error) => {
          if (Array.isArray(error)) errors.push(...error);
          else errors.push({ message: String((error as Error).message ?? error) });
        },
        complete: () => (completed = true),
      },
    );
    return { events, errors, stop, done: () => completed };
  }

  /** The HTTP status an upgrade request gets (101 when it is taken). */
  function upgradeStatus(headers: Record<string, string>): Promise<number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(wsUrl, 'graphql-transport-ws', { headers });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
  }

  it('a subscriber sees every status of a round in order, once, as the workers write them', async () => {
    const { client } = connect({ cookie: manager.cookie });
    const watched = watch(
      client,
      `subscription { roundUpdated(project: "${slug}") { id number status } }`,
    );
    // The current state first: this project has no round yet.
    await expect.poll(() => watched.events.length).toBe(1);
    expect(watched.events[0]).toEqual({ roundUpdated: null });

    // What the round workflow's activities do, back to back without waiting.
    const round = await api.db.db.rounds.open({ projectId, workflowId: 'live-round-1' });
    const phases = ['SCORING', 'SELECTING', 'LABELING', 'TRAINING', 'REINDEXING', 'EVALUATING'];
    for (const status of phases) {
      await api.db.db.rounds.setStatus(round.id, status as 'SCORING');
    }
    await api.db.db.rounds.setStatus(round.id, 'EVALUATING'); // an activity retried: no change
    await api.db.db.rounds.close(round.id, { status: 'COMPLETED', note: 'done' });

    const statuses = () =>
      watched.events.slice(1).map((e) => (e.roundUpdated as { status: string }).status);
    await expect.poll(statuses, { timeout: 10_000 }).toContain('COMPLETED');
    // Closing also writes the end time (a second change with the same status): dedupe those.
    const distinct = statuses().filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(distinct).toEqual(['PENDING', ...phases, 'COMPLETED']);
    expect(watched.events.slice(1).every((e) => e.roundUpdated.id === round.id)).toBe(true);
    expect(watched.errors).toEqual([]);

    // Unsubscribing leaves nothing behind in the API.
    watched.stop();
    await expect.poll(() => api.services.live.size).toBe(0);
  });

  it('budget changes arrive as they are committed; a program signs in with an API key in its init payload', async () => {
    const admin = await api.user('live-admin@example.com', { projectId, role: 'ADMIN' });
    const key = await api.ok(
      admin,
      `mutation { createApiKey(project: "${slug}", name: "line 3 MES", role: INTEGRATOR) { secret } }`,
    );
    const secret = key.createApiKey.secret as string;
    const { client } = connect({}, { authorization: `Bearer ${secret}` });
    const watched = watch(
      client,
      `subscription { budgetUpdated(project: "${slug}") { total spent remaining } }`,
    );
    await expect.poll(() => watched.events.length).toBe(1);
    const before = watched.events[0]!.budgetUpdated as { total: number };
    await api.ok(
      manager,
      `mutation { addBudget(project: "${slug}", amount: 25, reason: "more") { total } }`,
    );
    await expect
      .poll(() => watched.events.at(-1)?.budgetUpdated.total, { timeout: 10_000 })
      .toBe(before.total + 25);
    expect(watched.errors).toEqual([]);
    watched.stop();
  });

  it('after the listening connection is killed, it listens again and sends the current state', async () => {
    const { client } = connect({ cookie: manager.cookie });
    const watched = watch(client, `subscription { budgetUpdated(project: "${slug}") { total } }`);
    await expect.poll(() => watched.events.length).toBe(1);
    const killed = await api.db.db.pool.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN beanstalk_changes%'`,
    );
    expect(killed.rowCount).toBe(1);
    // The resync: the current state again, without any change.
    await expect.poll(() => watched.events.length, { timeout: 10_000 }).toBe(2);
    const total = watched.events[1]!.budgetUpdated.total as number;
    await api.ok(
      manager,
      `mutation { addBudget(project: "${slug}", amount: 5, reason: "more") { total } }`,
    );
    await expect
      .poll(() => watched.events.at(-1)?.budgetUpdated.total, { timeout: 10_000 })
      .toBe(total + 5);
    watched.stop();
  });

  it('refuses sockets without valid credentials, from other pages, and operations it does not run', async () => {
    // No credentials: the socket opens, the init is refused.
    const anonymous = connect();
    expect((await anonymous.closed).code).toBe(4403);
    // An unknown API key is refused before the upgrade, like over HTTP.
    expect(await upgradeStatus({ authorization: 'Bearer bsk_unknown' })).toBe(401);
    // A page of another site, with a valid cookie: refused (cross-site WebSocket hijacking).
    expect(
      await upgradeStatus({ cookie: manager.cookie, origin: 'https://evil.example.com' }),
    ).toBe(403);
    expect(await upgradeStatus({ cookie: manager.cookie })).toBe(101);

    const total = (await api.db.db.budget.of(projectId)).total;
    const { client } = connect({ cookie: manager.cookie });
    const mutation = watch(
      client,
      `mutation { addBudget(project: "${slug}", amount: 1000, reason: "over ws") { total } }`,
    );
    await expect.poll(() => mutation.errors.length).toBe(1);
    expect(mutation.errors[0]!.extensions?.code).toBe('BAD_USER_INPUT');
    const deep = watch(
      client,
      `subscription { roundUpdated(project: "${slug}") { headVersion { id } } } query { health }`,
    );
    await expect.poll(() => deep.errors.length).toBeGreaterThan(0);
    expect(deep.errors[0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    // Someone signed in without a role in the project: refused like a query would be.
    const other = connect({ cookie: outsider.cookie });
    const foreign = watch(
      other.client,
      `subscription { budgetUpdated(project: "${slug}") { total } }`,
    );
    await expect.poll(() => foreign.errors.length).toBe(1);
    expect(foreign.errors[0]!.extensions?.code).toBe('FORBIDDEN');
    expect(foreign.events).toEqual([]);
    expect((await api.db.db.budget.of(projectId)).total).toBe(total);
  });

  it('a socket whose session ends, or whose roles change, is closed', async () => {
    const person = await api.user('live-leaver@example.com', { projectId, role: 'ANNOTATOR' });
    const left = connect({ cookie: person.cookie });
    const watched = watch(
      left.client,
      `subscription { budgetUpdated(project: "${slug}") { total } }`,
    );
    await expect.poll(() => watched.events.length).toBe(1);
    await api.ok(person, 'mutation { logout }');
    // The harness checks credentials every half second (the API: every minute).
    expect((await left.closed).code).toBe(4403);

    const moved = await api.user('live-moved@example.com', { projectId, role: 'ANNOTATOR' });
    const kept = connect({ cookie: moved.cookie });
    const still = watch(
      kept.client,
      `subscription { budgetUpdated(project: "${slug}") { total } }`,
    );
    await expect.poll(() => still.events.length).toBe(1);
    await api.db.db.users.setMembership({
      projectId,
      email: 'live-moved@example.com',
      role: 'MANAGER',
    });
    expect((await kept.closed).code).toBe(4403);
  });
});
