// Webhook deliveries end to end: the orchestration worker as a real process (killed and
// restarted in one test), the real Temporal server, and a real HTTP receiver on loopback that
// checks what it gets the way an integrator's would.
import type { ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebhookUrl, WebhookRefused } from '@beanstalk/activities';
import { loadConfig } from '@beanstalk/config';
import type { NewEvent } from '@beanstalk/db';
import { emitWebhookEvent, resumeWebhookDeliveries, type Queues } from '@beanstalk/orchestration';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  createTestDatabase,
  freePort,
  seedFashionMnist,
  startProcess,
  type TestDatabase,
} from '@beanstalk/testing';

const workerDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

describe('webhook deliveries', () => {
  const config = loadConfig();
  let db: TestDatabase;
  let dir: string;
  let client: Client;
  let worker: ChildProcess | undefined;
  let projectId: string;
  let endpoint: { id: string; secret: string };
  const queues: Queues = { orchestration: `test-hooks-${randomUUID().slice(0, 8)}`, gpu: 'unused' };

  // The receiver: records every request; answers after `delayMs`.
  let port: number;
  let server: Server | null = null;
  const received: Received[] = [];
  let delayMs = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({
            headers: req.headers,
            body: Buffer.concat(chunks).toString(),
            at: Date.now(),
          });
          setTimeout(() => res.writeHead(200).end('ok'), delayMs);
        });
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server!.closeAllConnections();
      server!.close(() => resolve());
      server = null;
    });

  const startWorker = async () => {
    worker = await startProcess({
      name: 'worker',
      cwd: workerDir,
      args: ['src/main.ts', '--queue', 'orchestration', '--task-queue', queues.orchestration],
      env: {
        DATABASE_URL: db.url,
        BEANSTALK_WEBHOOK_ALLOW_PRIVATE: 'true',
        BEANSTALK_MAINTENANCE_SECONDS: '0',
      },
      ready: 'worker:',
    });
  };

  const emit = (event: Omit<NewEvent, 'projectId'>) =>
    emitWebhookEvent({ db: db.db, client: async () => client }, { projectId, ...event }, queues);

  const delivery = async (id: string) =>
    (await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id } }))!;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-hooks-'));
    ({ projectId } = await seedFashionMnist(
      { db: db.db, blobs: new LocalBlobStore(path.join(dir, 'blobs')) },
      { limit: 5, budget: 100 },
    ));
    port = await freePort();
    await listen();
    const created = await db.db.webhooks.create({
      projectId,
      url: `http://127.0.0.1:${port}/hooks`,
      description: 'line 3 MES',
      events: ['ROUND_COMPLETED', 'CAMPAIGN_FINISHED'],
      budgetBelow: null,
      createdById: null,
    });
    endpoint = { id: created.id, secret: created.secret };
    client = new Client({
      connection: await Connection.connect({ address: config.temporal.address }),
      namespace: config.temporal.namespace,
    });
    await startWorker();
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    if (server) await stopListening();
    await client?.connection.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs the event so the receiver can verify it, logs the delivery, and sends an event once', async () => {
    const before = received.length;
    const [id] = await emit({
      event: 'ROUND_COMPLETED',
      key: 'round-completed:r1',
      payload: { round: { number: 1, macroF1: 0.8 } },
    });
    expect(id).toBeDefined();
    await expect.poll(() => received.length, { timeout: 15_000 }).toBe(before + 1);
    const got = received.at(-1)!;
    // The receiver's check: HMAC-SHA256 of "<t>.<body>" with the secret, and a fresh t.
    const [, t, mac] = String(got.headers['beanstalk-signature']).match(
      /^t=(\d+),v1=([0-9a-f]{64})$/,
    )!;
    const expected = createHmac('sha256', endpoint.secret).update(`${t}.${got.body}`).digest('hex');
    expect(mac).toBe(expected);
    expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(60);
    const body = JSON.parse(got.body);
    expect(body).toMatchObject({
      type: 'round.completed',
      project: { id: projectId },
      data: { round: { number: 1, macroF1: 0.8 } },
    });
    expect(got.headers['idempotency-key']).toBe(body.id);
    expect(got.headers['beanstalk-delivery']).toBe(id);
    // A tampered body fails the same check.
    const forged = createHmac('sha256', endpoint.secret).update(`${t}.${got.body} `).digest('hex');
    expect(forged).not.toBe(mac);
    await expect.poll(async () => (await delivery(id!)).status).toBe('DELIVERED');
    expect(await delivery(id!)).toMatchObject({ attempts: 1, lastStatusCode: 200 });

    // The emitter retrying (the same key) and an event the endpoint did not ask for send nothing.
    expect(
      await emit({ event: 'ROUND_COMPLETED', key: 'round-completed:r1', payload: {} }),
    ).toEqual([]);
    expect(await emit({ event: 'ROUND_OPENED', key: 'round-opened:r1', payload: {} })).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(received.length).toBe(before + 1);
  });

  it('a receiver that is down for a while gets the event when it is back', async () => {
    await stopListening();
    const before = received.length;
    const [id] = await emit({
      event: 'CAMPAIGN_FINISHED',
      key: 'campaign-finished:c1',
      payload: { campaign: { rounds: 3 } },
    });
    // Refused attempts are logged with their error while it is down.
    await expect
      .poll(async () => (await delivery(id!)).attempts, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    expect((await delivery(id!)).lastError).toMatch(/ECONNREFUSED/);
    expect((await delivery(id!)).status).toBe('PENDING');
    await listen();
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(before + 1);
    await expect.poll(async () => (await delivery(id!)).status).toBe('DELIVERED');
    expect(JSON.parse(received.at(-1)!.body).type).toBe('campaign.finished');
  });

  it('a worker killed mid-delivery: the next one sends it again with the same idempotency key, none lost', async () => {
    delayMs = 4000;
    const before = received.length;
    const [id] = await emit({
      event: 'ROUND_COMPLETED',
      key: 'round-completed:r2',
      payload: { round: { number: 2 } },
    });
    await expect.poll(() => received.length, { timeout: 15_000 }).toBe(before + 1);
    // The receiver has the request; its answer is still on the way when the worker dies.
    worker!.kill('SIGKILL');
    delayMs = 0;
    await startWorker();
    await expect
      .poll(async () => (await delivery(id!)).status, { timeout: 30_000 })
      .toBe('DELIVERED');
    const copies = received.slice(before);
    expect(copies.length).toBe(2);
    const keys = new Set(copies.map((c) => c.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toBe(JSON.parse(copies[0]!.body).id);
    // One delivery row for the event: deduplicating by the key leaves exactly one event.
    expect(
      await db.prisma.webhookDelivery.count({ where: { eventKey: 'round-completed:r2' } }),
    ).toBe(1);
  });

  it('deliveries written while no sender could start are sent by the maintenance pass', async () => {
    const before = received.length;
    // Written as an emitter does, but Temporal "away": no workflow started.
    const ids = await db.db.webhooks.enqueue({
      projectId,
      event: 'ROUND_COMPLETED',
      key: 'round-completed:r3',
      payload: {},
    });
    expect(ids).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(received.length).toBe(before);
    expect(await resumeWebhookDeliveries({ db: db.db, client }, { minAgeMs: 0, queues })).toBe(1);
    await expect.poll(() => received.length, { timeout: 15_000 }).toBe(before + 1);
    await expect.poll(async () => (await delivery(ids[0]!)).status).toBe('DELIVERED');
  });

  it('refuses URLs that point at this machine or its network unless the server allows them', () => {
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://localhost/x',
      'http://[::1]/x',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/x',
      'http://192.168.0.10/x',
      'http://[::ffff:127.0.0.1]/x',
    ]) {
      expect(() => checkWebhookUrl(url, false), url).toThrow(WebhookRefused);
      expect(() => checkWebhookUrl(url, true), url).not.toThrow();
    }
    for (const url of ['ftp://example.com/x', 'http://user:pw@example.com/x', 'not a url']) {
      expect(() => checkWebhookUrl(url, true), url).toThrow(WebhookRefused);
    }
    expect(checkWebhookUrl('https://hooks.example.com/beanstalk', false).hostname).toBe(
      'hooks.example.com',
    );
  });
});
