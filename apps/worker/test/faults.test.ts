// Faults with real processes: Postgres and Temporal of this file's own (so other test files
// never see them stop), the workers as child processes as deployed, and a simulated labeler
// that keeps answering through the outages the way a person retrying would.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@beanstalk/db';
import {
  roundStatus,
  startIngest,
  startRound,
  submitLabel,
  type RoundStatus,
} from '@beanstalk/orchestration';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  hiddenClassOf,
  seedFashionMnist,
  startPrivateServices,
  type PrivateServices,
} from '@beanstalk/testing';

const workerDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('rounds ride out Postgres and Temporal restarts', () => {
  let svc: PrivateServices;
  let db: Database;
  let client: Client;
  let projectId: string;
  let worker: ChildProcess;
  const workerOutput: string[] = [];

  beforeAll(async () => {
    svc = await startPrivateServices();
    db = createDatabase(svc.config.postgres.databaseUrl);
    const blobs = new LocalBlobStore(svc.config.blobDir);
    ({ projectId } = await seedFashionMnist({ db, blobs }, { limit: 1500, budget: 400 }));
    // Every head is promoted: the last test needs heads that later rounds replaced, whatever
    // each round's head scores against the one before.
    await db.projects.update(projectId, {
      roundSize: 40,
      taskLeaseSeconds: 600,
      promotionTolerance: 1,
    });
    worker = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--queue', 'all'], {
      cwd: workerDir,
      env: {
        ...process.env,
        ...svc.env,
        BEANSTALK_MAINTENANCE_SECONDS: '1',
        BEANSTALK_KEEP_RETIRED_SETS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        workerOutput.push(chunk.toString());
        if (chunk.toString().includes('worker:')) resolve();
      };
      worker.stdout!.on('data', onData);
      worker.stderr!.on('data', onData);
      worker.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    client = new Client({
      connection: await Connection.connect({ address: svc.config.temporal.address }),
      namespace: svc.config.temporal.namespace,
    });
    await (await startIngest(client, projectId)).result();
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await client?.connection.close();
    await db?.close();
    await svc?.close();
  });

  /**
   * Answers the project's tasks with the hidden truth until `until()`, never more than
   * `most()` of them; a call that fails (the database or Temporal away) is tried again, and a
   * claim whose answer was lost is found and answered.
   * Returns the tasks it stored labels for.
   */
  async function label(
    until: () => boolean,
    most: () => number = () => Infinity,
  ): Promise<Set<string>> {
    const stored = new Set<string>();
    while (!until()) {
      if (stored.size >= most()) {
        await sleep(100);
        continue;
      }
      try {
        // A claim can commit while its answer is lost (Postgres stopped just then); it would
        // hold its task for the whole lease. This is the only labeler, so a claimed task it
        // has not answered is its own: answered first, as a person's client would retry it.
        const task =
          (await db.prisma.labelTask.findFirst({
            where: { projectId, status: 'CLAIMED', assigneeId: null, id: { notIn: [...stored] } },
          })) ?? (await db.tasks.claimNext({ projectId, annotatorId: null, leaseSeconds: 600 }));
        if (!task) {
          await sleep(100);
          continue;
        }
        const classId = await hiddenClassOf(db, task.itemId);
        for (;;) {
          try {
            await submitLabel(
              { db, temporal: async () => client },
              { taskId: task.id, labelClassId: classId },
            );
            stored.add(task.id);
            break;
          } catch {
            await sleep(200);
          }
        }
      } catch {
        await sleep(200);
      }
    }
    return stored;
  }

  /**
   * Polls the round's progress until `ready` (within two minutes), tolerating Temporal being
   * away. Conditions are on phases entered, not the phase of the moment, which a busy machine
   * may poll past.
   */
  async function waitFor(workflowId: string, ready: (s: RoundStatus) => boolean) {
    const deadline = Date.now() + 120_000;
    let last: RoundStatus | null = null;
    while (Date.now() < deadline) {
      const status = await roundStatus(client, workflowId).catch(() => null);
      if (status && ready(status)) return status;
      last = status ?? last;
      await sleep(50);
    }
    // Where it stood, so a failure here says which step stalled and why.
    const where = last
      ? `phase ${last.phase}, ${last.received}/${last.asked} labels, activity ${JSON.stringify(last.activity)}`
      : 'no status answered';
    throw new Error(`round ${workflowId} did not get there within two minutes (${where})`);
  }
  const entered = (s: RoundStatus, phase: RoundStatus['phase']) =>
    s.phases.some((p) => p.phase === phase);

  /** The round's labels: exactly one HUMAN label per done task, none anywhere else. */
  async function expectNothingLostOrDoubled(roundId: string, submitted: Set<string>) {
    const tasks = await db.prisma.labelTask.findMany({ where: { roundId } });
    const done = tasks.filter((t) => t.status === 'DONE');
    const labels = await db.prisma.label.findMany({ where: { roundId, source: 'HUMAN' } });
    expect(new Set(done.map((t) => t.id))).toEqual(submitted);
    expect(labels).toHaveLength(done.length);
    expect(new Set(labels.map((l) => l.taskId))).toEqual(submitted);
    expect(new Set(labels.map((l) => l.itemId)).size).toBe(labels.length);
  }

  it('Postgres restarted while a round waits for labels and while it reindexes: it finishes, nothing lost', async () => {
    const handle = await startRound(client, { projectId, leaseCheckIntervalMs: 500 }, 'pg-restart');
    let done = false;
    const labeling = label(() => done);
    // The labeler stops with this test, passed or failed, so it never answers the next one's.
    const result = await (async () => {
      await waitFor(
        handle.workflowId,
        (s) => entered(s, 'labeling') && (s.received >= 10 || entered(s, 'training')),
      );
      await svc.stopPostgres();
      await sleep(3000).finally(() => svc.startPostgres());
      await waitFor(handle.workflowId, (s) => entered(s, 'reindexing'));
      await svc.stopPostgres();
      await sleep(3000).finally(() => svc.startPostgres());
      return handle.result();
    })().finally(() => (done = true));
    const submitted = await labeling;
    expect(result.asked).toBe(40);
    expect(result.received).toBe(40);
    expect(result.promoted).toBe(true);
    await expectNothingLostOrDoubled(result.roundId, submitted);
    expect(worker.exitCode).toBeNull();
  });

  it('Temporal restarted mid-round: labels given meanwhile are kept and the round finishes', async () => {
    const handle = await startRound(
      client,
      { projectId, leaseCheckIntervalMs: 500 },
      'temporal-restart',
    );
    let done = false;
    // Ten answers first, the rest only once Temporal is away.
    let most = 10;
    const labeling = label(
      () => done,
      () => most,
    );
    const status = await waitFor(handle.workflowId, (s) => s.received >= 10);
    await svc.stopTemporal();
    most = Infinity;
    // Labels keep arriving while Temporal is away: stored, their signal lost.
    let before: number;
    let during: number;
    try {
      before = await db.labels.countHuman(projectId);
      await sleep(4000);
      during = await db.labels.countHuman(projectId);
    } finally {
      await svc.startTemporal();
    }
    expect(during).toBeGreaterThan(before);
    const result = await handle.result().finally(() => (done = true));
    const submitted = await labeling;
    expect(result.roundId).toBe(status.roundId);
    expect(result.received).toBe(result.asked);
    await expectNothingLostOrDoubled(result.roundId, submitted);
    expect(worker.exitCode).toBeNull();
  });

  it('Postgres away for longer than the retry window: the round fails and is closed cleanly', async () => {
    const handle = await startRound(
      client,
      { projectId, leaseCheckIntervalMs: 500, retryWindowMs: 4000 },
      'pg-gone',
    );
    // Nobody answers: the round waits with every task open.
    const status = await waitFor(handle.workflowId, (s) => s.phase === 'labeling');
    const reservedBefore = (await db.budget.of(projectId)).reserved;
    expect(reservedBefore).toBe(status.asked);
    await svc.stopPostgres();
    try {
      await sleep(10_000);
    } finally {
      await svc.startPostgres();
    }
    await expect(handle.result()).rejects.toThrow();
    const round = await db.rounds.get(status.roundId!);
    expect(round.status).toBe('FAILED');
    const counts = await db.tasks.counts(round.id);
    expect(counts.open + counts.claimed).toBe(0);
    expect(counts.expired).toBe(status.asked);
    expect((await db.budget.of(projectId)).reserved).toBe(0);
    // Nothing of the failed round is handed out any more.
    expect(await db.tasks.claimNext({ projectId, annotatorId: null, leaseSeconds: 60 })).toBeNull();
    expect(worker.exitCode).toBeNull();
  });

  it('a round whose workflow is gone is closed by a worker: tasks expired, budget released', async () => {
    // The same maintenance pass deletes expired sessions and keeps live ones.
    const person = await db.users.create({
      email: 'maint@example.com',
      name: 'm',
      password: 'long enough password',
    });
    await db.users.createSession({
      userId: person.id,
      tokenHash: 'expired-session',
      expiresAt: new Date(Date.now() - 1000),
    });
    await db.users.createSession({
      userId: person.id,
      tokenHash: 'live-session',
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const handle = await startRound(client, { projectId, leaseCheckIntervalMs: 500 }, 'terminated');
    const status = await waitFor(handle.workflowId, (s) => s.phase === 'labeling');
    await handle.terminate('gone');
    for (let i = 0; i < 100; i++) {
      if ((await db.rounds.get(status.roundId!)).status === 'FAILED') break;
      await sleep(200);
    }
    const round = await db.rounds.get(status.roundId!);
    expect(round.status).toBe('FAILED');
    expect(round.note).toMatch(/ended without closing the round/);
    const counts = await db.tasks.counts(round.id);
    expect(counts.open + counts.claimed).toBe(0);
    expect((await db.budget.of(projectId)).reserved).toBe(0);
    expect(await db.users.bySession('live-session')).not.toBeNull();
    expect(await db.users.endSessionsOf(person.id)).toBe(1);
    // And, keeping no retired sets here, drops those of the heads the earlier rounds replaced.
    const project = await db.projects.get(projectId);
    const replaced = (await db.heads.ofProject(projectId)).filter(
      (h) => h.status === 'RETIRED' && h.promotedAt && h.id !== project.searchHeadVersionId,
    );
    expect(replaced.length).toBeGreaterThan(0);
    for (const head of replaced) expect(await db.vectorSets.state(head.id)).toBe('missing');
    expect(await db.vectorSets.state(project.activeHeadVersionId!)).toBe('published');
  });
});
