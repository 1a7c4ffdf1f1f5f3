import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundStatus, startCampaign, startRound, submitLabel } from '@beanstalk/orchestration';
import { hiddenClassOf } from '@beanstalk/testing';
import { campaignProgress, roundProgress } from '@beanstalk/workflows';
import { startHarness, type Harness } from './harness.ts';

const workerDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('rounds survive killed workers, expired leases and cancellation', () => {
  let h: Harness;
  const children: ChildProcess[] = [];

  /** A gpu worker as its own process, as deployed; resolves once it polls. */
  async function spawnGpuWorker(): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', '--queue', 'gpu', '--task-queue', h.queues.gpu],
      {
        cwd: workerDir,
        env: { ...process.env, DATABASE_URL: h.db.url, BEANSTALK_BLOB_DIR: h.config.blobDir },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('worker:')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`gpu worker exited with ${code}`)));
    });
    return child;
  }

  beforeAll(async () => {
    h = await startHarness({ limit: 1000, budget: 200, gpuWorker: false });
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h?.close();
  });

  it('a gpu worker SIGKILLed while retraining: a new one finishes the round, no label lost or doubled', async () => {
    const first = await spawnGpuWorker();
    await h.ingestAll();
    await h.db.prisma.project.update({ where: { id: h.projectId }, data: { roundSize: 60 } });
    const handle = await startRound(h.client, { projectId: h.projectId }, 'killed', h.queues);
    let done = false;
    const labeling = h.label(() => done);
    // Kill once a worker has started the training activity: it can only be this one.
    for (;;) {
      const status = await roundStatus(h.client, handle.workflowId);
      if (status.activity?.name === 'trainRoundHead' && status.activity.state === 'started') {
        expect(status.activity.attempt).toBe(1);
        break;
      }
      expect(['opening', 'selecting', 'labeling', 'training']).toContain(status.phase);
      await sleep(50);
    }
    first.kill('SIGKILL');
    await spawnGpuWorker();
    const result = await handle.result().finally(() => (done = true));
    await labeling;

    expect(result).toMatchObject({ asked: 60, received: 60, promoted: true });
    const human = await h.db.prisma.label.findMany({
      where: { projectId: h.projectId, source: 'HUMAN' },
    });
    expect(human).toHaveLength(60);
    expect(new Set(human.map((l) => l.itemId)).size).toBe(60);
    expect(new Set(human.map((l) => l.taskId)).size).toBe(60);
    expect(await h.db.prisma.headVersion.count({ where: { roundId: result.roundId } })).toBe(1);
    // The server saw the training activity start more than once: the kill hit it.
    const history = await handle.fetchHistory();
    const scheduled = new Set(
      history
        .events!.filter(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainRoundHead',
        )
        .map((e) => String(e.eventId)),
    );
    const attempts = history.events!.flatMap((e) =>
      e.activityTaskStartedEventAttributes &&
      scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId))
        ? [e.activityTaskStartedEventAttributes.attempt ?? 1]
        : [],
    );
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  });

  it('a task lease that expires returns the item to the pool and releases its budget', async () => {
    await h.db.prisma.project.update({
      where: { id: h.projectId },
      data: { roundSize: 5, autoAcceptEnabled: false },
    });
    const handle = await startRound(
      h.client,
      { projectId: h.projectId, leaseCheckIntervalMs: 300 },
      'lease',
      h.queues,
    );
    while ((await handle.query(roundProgress)).phase !== 'labeling') await sleep(100);
    const { roundId } = await handle.query(roundProgress);
    const before = await h.db.db.budget.of(h.projectId);
    expect(before.reserved).toBe(5);
    const abandoned = (await h.db.db.tasks.claimNext({
      projectId: h.projectId,
      annotatorId: null,
      leaseSeconds: 1,
    }))!;
    for (let i = 0; i < 100 && (await h.db.db.tasks.counts(roundId!)).expired === 0; i++) {
      await sleep(100);
    }
    const after = await h.db.db.budget.of(h.projectId);
    expect(after.reserved).toBe(4);
    expect(after.remaining).toBe(before.remaining + 1);
    await expect(
      submitLabel(
        { db: h.db.db, temporal: async () => h.client },
        {
          taskId: abandoned.id,
          labelClassId: await hiddenClassOf(h.db.db, abandoned.itemId),
        },
      ),
    ).rejects.toThrow(/expired/);
    let done = false;
    const labeling = h.label(() => done);
    const result = await handle.result().finally(() => (done = true));
    await labeling;
    expect(result).toMatchObject({ asked: 5, received: 4 });
    expect((await handle.query(roundProgress)).expired).toBe(1);
    // Back in the pool: no label, no live task, so a later round may ask for it again.
    expect(await h.db.prisma.label.count({ where: { itemId: abandoned.itemId } })).toBe(0);
    expect(
      await h.db.prisma.labelTask.count({
        where: { itemId: abandoned.itemId, status: { in: ['OPEN', 'CLAIMED'] } },
      }),
    ).toBe(0);
  });

  it('cancelling a round mid-labeling expires its tasks, releases the budget and keeps the active head', async () => {
    await h.db.prisma.project.update({ where: { id: h.projectId }, data: { roundSize: 10 } });
    const activeBefore = (
      await h.db.prisma.project.findUniqueOrThrow({ where: { id: h.projectId } })
    ).activeHeadVersionId;
    const handle = await startRound(h.client, { projectId: h.projectId }, 'cancel', h.queues);
    while ((await handle.query(roundProgress)).phase !== 'labeling') await sleep(100);
    const { roundId } = await handle.query(roundProgress);
    let answered = 0;
    await h.label(() => answered++ >= 3);
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const round = await h.db.prisma.round.findUniqueOrThrow({ where: { id: roundId! } });
    expect(round.status).toBe('CANCELLED');
    const counts = await h.db.db.tasks.counts(roundId!);
    expect(counts).toMatchObject({ open: 0, claimed: 0, done: 3, expired: 7 });
    expect((await h.db.db.budget.of(h.projectId)).reserved).toBe(0);
    expect(await h.db.prisma.label.count({ where: { roundId: roundId!, source: 'HUMAN' } })).toBe(
      3,
    );
    expect(await h.db.prisma.headVersion.count({ where: { roundId: roundId! } })).toBe(0);
    const project = await h.db.prisma.project.findUniqueOrThrow({ where: { id: h.projectId } });
    expect(project.activeHeadVersionId).toBe(activeBefore);
  });

  it('one campaign per project; it continues as new after a round and stops at its limit', async () => {
    await h.db.prisma.project.update({ where: { id: h.projectId }, data: { roundSize: 5 } });
    const deps = { db: h.db.db, client: h.client };
    const handle = await startCampaign(
      deps,
      { projectId: h.projectId, maxRounds: 1, leaseCheckIntervalMs: 300 },
      h.queues,
    );
    await expect(startCampaign(deps, { projectId: h.projectId }, h.queues)).rejects.toThrow(
      /already has a campaign running/,
    );
    let done = false;
    const labeling = h.label(() => done);
    const result = await handle.result().finally(() => (done = true));
    await labeling;
    expect(result.stopReason).toBe('1 rounds done');
    expect(result.rounds).toBe(1);
    const campaign = await h.db.prisma.campaign.findUniqueOrThrow({
      where: { id: result.campaignId },
      include: { rounds: true },
    });
    expect(campaign).toMatchObject({ status: 'COMPLETED', stopReason: '1 rounds done' });
    expect(campaign.rounds.map((r) => r.status)).toEqual(['COMPLETED']);
    const progress = await handle.query(campaignProgress);
    expect(progress.history).toHaveLength(1);
    // The run that finished is a continuation, not the first run.
    const description = await handle.describe();
    expect(description.runId).not.toBe(handle.firstExecutionRunId);
  });

  it('a second campaign on the project runs rounds of its own, with new tasks', async () => {
    const deps = { db: h.db.db, client: h.client };
    const first = await h.db.prisma.campaign.findFirstOrThrow({
      where: { projectId: h.projectId, status: 'COMPLETED' },
      include: { rounds: true },
    });
    const handle = await startCampaign(
      deps,
      { projectId: h.projectId, maxRounds: 1, leaseCheckIntervalMs: 300 },
      h.queues,
    );
    let done = false;
    const labeling = h.label(() => done);
    const result = await handle.result().finally(() => (done = true));
    await labeling;
    expect(result.campaignId).not.toBe(first.id);
    expect(handle.workflowId).not.toBe(first.workflowId);
    const second = await h.db.prisma.campaign.findUniqueOrThrow({
      where: { id: result.campaignId },
      include: { rounds: { include: { tasks: true } } },
    });
    expect(second.status).toBe('COMPLETED');
    expect(second.rounds).toHaveLength(1);
    const [round] = second.rounds;
    // Its own round: a new row with a new number, and tasks it opened itself.
    expect(first.rounds.map((r) => r.id)).not.toContain(round!.id);
    expect(round!.number).toBeGreaterThan(Math.max(...first.rounds.map((r) => r.number)));
    expect(round!.tasks.length).toBeGreaterThan(0);
    expect(round!.tasks.every((t) => t.status === 'DONE')).toBe(true);
    expect(round!.status).toBe('COMPLETED');
  });
});
