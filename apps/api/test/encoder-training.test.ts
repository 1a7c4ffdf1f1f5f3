// A new team's first hour through the API alone: create a project, upload images, train its
// encoder, start a round. Real Temporal, real worker processes (orchestration, gpu, and the
// Python training worker), started as deployed.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@beanstalk/config';
import { grayPng, startProcess } from '@beanstalk/testing';
import { codes, startApi, type Api } from './harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FASHION = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';

/** The first `n` Fashion-MNIST training images as PNG files. */
function fashionPngs(n: number) {
  const raw = gunzipSync(readFileSync(FASHION)).subarray(16);
  return Array.from({ length: n }, (_, i) => ({
    name: `shirt-or-shoe-${i}.png`,
    bytes: grayPng(28, 28, (p) => raw[i * 784 + p]!),
  }));
}

describe('a project trained and labeled through the API alone (no command line)', () => {
  let api: Api;
  let admin: { cookie: string };
  let annotator: { cookie: string };
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    api = await startApi();
    admin = await api.user('admin@example.com', { isAdmin: true });
    const { queues, config } = api.services;
    const env = {
      DATABASE_URL: api.db.url,
      BEANSTALK_DATA_DIR: config.dataDir,
      BEANSTALK_BLOB_DIR: config.blobDir,
      BEANSTALK_TRAINER_PYTHON: loadConfig().trainer.python,
      BEANSTALK_TRAINER_THREADS: '2',
      BEANSTALK_MAINTENANCE_SECONDS: '0',
    };
    const worker = (queue: string, taskQueue: string, ready: string) =>
      startProcess({
        name: `worker --queue ${queue}`,
        cwd: path.join(ROOT, 'apps/worker'),
        args: ['src/main.ts', '--queue', queue, '--task-queue', taskQueue],
        env,
        ready,
      });
    workers.push(
      ...(await Promise.all([
        worker('orchestration', queues.orchestration, 'worker:'),
        worker('gpu', queues.gpu, 'worker:'),
        worker('train', queues.train!, 'polling'),
      ])),
    );
  });
  afterAll(async () => {
    // SIGTERM: the train launcher passes it on to its Python worker.
    await Promise.all(
      workers.map(async (w) => {
        if (w.exitCode !== null) return;
        const exited = once(w, 'exit');
        w.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000).then(() => w.kill('SIGKILL'))]);
      }),
    );
    await api?.stop();
  });

  it('create, upload 300 images, trainEncoder (1 epoch): the items are embedded and a round opens tasks', async () => {
    const created = await api.ok(
      admin,
      `mutation {
      createProject(input: { slug: "new-team", name: "New team", classes: [
        { name: "top" }, { name: "shoe" }, { name: "bag", isNormal: false }] }) { id encoderVersion { id } }
    }`,
    );
    expect(created.createProject.encoderVersion).toBeNull();
    annotator = await api.user('annotator@example.com', {
      projectId: created.createProject.id,
      role: 'ANNOTATOR',
    });
    const files = fashionPngs(300);
    const uploaded = await api.upload(
      admin,
      'mutation ($f: [Upload!]!) { importItems(project: "new-team", files: $f) { imported failed ingestWorkflowId } }',
      { f: files.map(() => null) },
      Object.fromEntries(files.map((f, i) => [`f.${i}`, f])),
    );
    // Nothing to embed with yet: no ingest starts.
    expect(uploaded.data?.importItems).toEqual({
      imported: 300,
      failed: 0,
      ingestWorkflowId: null,
    });

    // Only managers train; annotators are refused.
    const refused = await api.gql(
      annotator,
      'mutation { trainEncoder(project: "new-team", epochs: 1) { workflowId } }',
    );
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    const started = await api.ok(
      admin,
      'mutation { trainEncoder(project: "new-team", objective: SIMCLR, epochs: 1) { workflowId } }',
    );
    expect(started.trainEncoder.workflowId).toMatch(/^train-encoder-/);

    // Progress while it runs, then the end state.
    const phases = new Set<string>();
    let training: Record<string, any> = {};
    for (const deadline = Date.now() + 180_000; Date.now() < deadline;) {
      training = (
        await api.ok(
          admin,
          `{ project(slug: "new-team") { encoderTraining {
              running phase images skippedCount inputWidth inputHeight channels epochs lossCurve
              epoch etaSeconds device note encoderVersion { id objective lossCurve trainingImages }
          } } }`,
        )
      ).project.encoderTraining;
      phases.add(training.phase);
      if (!training.running) break;
      await sleep(200);
    }
    expect(training).toMatchObject({
      running: false,
      phase: 'completed',
      images: 300,
      skippedCount: 0,
      inputWidth: 28,
      inputHeight: 28,
      channels: 1,
      epochs: 1,
    });
    expect(training.lossCurve).toHaveLength(1);
    expect(training.encoderVersion).toMatchObject({ objective: 'simclr', trainingImages: 300 });
    const project = (
      await api.ok(
        admin,
        '{ project(slug: "new-team") { id encoderVersion { id } encoders { id } itemCounts { total } } }',
      )
    ).project;
    expect(project.encoderVersion.id).toBe(training.encoderVersion.id);
    expect(project.encoders.map((e: { id: string }) => e.id)).toEqual([training.encoderVersion.id]);
    expect(await api.db.db.items.countWithoutFeatures(project.id, project.encoderVersion.id)).toBe(
      0,
    );

    // No head on the new encoder yet: classify says what is missing instead of guessing.
    const early = await api.upload(
      admin,
      'mutation ($image: Upload!) { classify(project: "new-team", image: $image) { confidence } }',
      { image: null },
      { image: files[0]! },
    );
    expect(codes(early)).toEqual(['CONFLICT']);
    expect(early.errors![0]!.message).toContain('no trained model on its current encoder');

    // The first round: a budget, then tasks to label.
    await api.ok(
      admin,
      'mutation { addBudget(project: "new-team", amount: 20, reason: "first round") { total } }',
    );
    await api.ok(admin, 'mutation { startRound(project: "new-team") { workflowId } }');
    let open = 0;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && open === 0;) {
      await sleep(200);
      open = await api.db.prisma.labelTask.count({ where: { projectId: project.id } });
    }
    expect(open).toBeGreaterThan(0);
    const next = await api.ok(
      annotator,
      'mutation { claimNextTask(project: "new-team") { id item { id } } }',
    );
    expect(next.claimNextTask?.item.id).toBeTruthy();
  });

  it('FINETUNE without enough labels is refused at once, naming the minimum', async () => {
    const r = await api.gql(
      admin,
      'mutation { trainEncoder(project: "new-team", objective: FINETUNE, epochs: 30) { workflowId } }',
    );
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message).toMatch(
      /new-team has \d+ labeled pool images in \d+ classes; fine-tuning needs at least 20/,
    );
  });

  it('too few images: trainEncoder is refused at once, naming the minimum', async () => {
    await api.ok(
      admin,
      `mutation {
      createProject(input: { slug: "tiny", name: "Tiny", classes: [{ name: "a" }, { name: "b" }] }) { id }
    }`,
    );
    const files = fashionPngs(10);
    await api.upload(
      admin,
      'mutation ($f: [Upload!]!) { importItems(project: "tiny", files: $f) { imported } }',
      { f: files.map(() => null) },
      Object.fromEntries(files.map((f, i) => [`f.${i}`, f])),
    );
    const r = await api.gql(
      admin,
      'mutation { trainEncoder(project: "tiny", epochs: 1) { workflowId } }',
    );
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message).toContain(
      'has 10 readable pool images; training an encoder needs at least 64',
    );
    const bad = await api.gql(
      admin,
      'mutation { trainEncoder(project: "tiny", epochs: 0) { workflowId } }',
    );
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
  });
});
