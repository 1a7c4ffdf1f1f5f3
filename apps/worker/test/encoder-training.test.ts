import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeItems } from '@beanstalk/ingest';
import { MIN_TRAINING_IMAGES } from '@beanstalk/model-runtime';
import {
  encoderTrainingStatus,
  startEncoderTraining,
  type EncoderTrainingStatus,
} from '@beanstalk/orchestration';
import { hiddenClassOf } from '@beanstalk/testing';
import { startHarness, type Harness } from './harness.ts';

/** Polls the project's training until `until` holds (or fails after `ms`). */
async function waitFor(
  h: Harness,
  until: (s: EncoderTrainingStatus) => boolean,
  ms = 120_000,
): Promise<EncoderTrainingStatus> {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = await encoderTrainingStatus(h.client, h.projectId);
    if (status && until(status)) return status;
    if (status?.running === false || Date.now() > deadline)
      throw new Error(`gave up waiting: ${JSON.stringify(status)}`);
    await sleep(100);
  }
}

const heartbeat = (s: EncoderTrainingStatus) =>
  (s.activity?.name === 'pretrainEncoder' ? s.activity.details : null) as {
    epoch: number;
    lossCurve: number[];
  } | null;

const trainedFor = async (h: Harness) =>
  (await h.db.db.encoders.ofProject(h.projectId)).filter((e) => e.projectId === h.projectId);

describe('training an encoder in the platform (Python worker on Temporal)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ limit: 1000, budget: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a trainer SIGKILLed mid-training: the retry resumes from the last epoch, the encoder is registered once and the project switched', async () => {
    const before = await h.db.db.projects.get(h.projectId);
    const trainer = await h.startTrainer();
    const handle = await startEncoderTraining(
      h.client,
      {
        projectId: h.projectId,
        objective: 'ae',
        epochs: 8,
        batchSize: 64,
        widths: [8, 16, 32, 64],
        heartbeatTimeoutMs: 3000,
      },
      h.queues,
    );
    // Killed once the first epoch's checkpoint is written, well before the last.
    const running = await waitFor(h, (s) => (heartbeat(s)?.lossCurve.length ?? 0) >= 1);
    trainer.kill('SIGKILL');
    expect(heartbeat(running)!.epoch).toBeLessThan(8);
    expect(running.input).toEqual({ width: 28, height: 28, channels: 1 });
    // A new worker process takes the retry (the harness stops it at the end).
    await h.startTrainer();
    const result = await handle.result();
    expect(result.phase).toBe('completed');
    expect(result.resumedAfterEpoch).toBeGreaterThanOrEqual(1);
    expect(result.lossCurve).toHaveLength(8);
    expect(result.images).toBe(1000);
    const registered = await trainedFor(h);
    expect(registered.map((e) => e.id)).toEqual([result.encoderVersionId]);
    // Every item (pool and eval) has the new encoder's features; the project uses it now.
    expect(await h.db.db.items.countWithoutFeatures(h.projectId, result.encoderVersionId!)).toBe(0);
    const after = await h.db.db.projects.get(h.projectId);
    expect(after.encoderVersionId).toBe(result.encoderVersionId);
    expect(result.previousEncoderVersionId).toBe(before.encoderVersionId);
    const status = await encoderTrainingStatus(h.client, h.projectId);
    expect(status).toMatchObject({ running: false, phase: 'completed' });
  });

  it('cancelled mid-training: the workflow ends cancelled, nothing is registered, the project keeps its encoder', async () => {
    const before = await h.db.db.projects.get(h.projectId);
    const registeredBefore = (await trainedFor(h)).length;
    const handle = await startEncoderTraining(
      h.client,
      { projectId: h.projectId, objective: 'simclr', epochs: 50, batchSize: 64 },
      h.queues,
    );
    await waitFor(h, (s) => heartbeat(s) !== null);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const status = await waitFor(h, (s) => !s.running);
    expect(status.phase).toBe('cancelled');
    expect((await h.db.db.projects.get(h.projectId)).encoderVersionId).toBe(
      before.encoderVersionId,
    );
    expect(await trainedFor(h)).toHaveLength(registeredBefore);
  });

  it("fine-tuning: refused on too few labels; on people's pool labels only, the project's encoder is trained further, registered, embedded and switched to", async () => {
    const items = await h.db.prisma.item.findMany({
      where: { projectId: h.projectId },
      orderBy: { contentHash: 'asc' },
    });
    const pool = items.filter((i) => i.split === 'POOL');
    const evalItems = items.filter((i) => i.split === 'EVAL');
    const give = async (chosen: typeof items, source: 'HUMAN' | 'AUTO') => {
      for (const item of chosen) {
        await h.db.db.labels.append({
          projectId: h.projectId,
          itemId: item.id,
          labelClassId: await hiddenClassOf(h.db.db, item.id),
          source,
          supersedesId: null,
        });
      }
    };
    await give(pool.slice(0, 10), 'HUMAN');
    // Its own trainer: the one the first test started may still be busy with the cancelled run.
    await h.startTrainer();
    const fineTune = { projectId: h.projectId, objective: 'finetune', epochs: 4, seed: 1 };
    const refused = await startEncoderTraining(h.client, fineTune, h.queues);
    await expect(refused.result()).rejects.toThrow();
    const failed = await encoderTrainingStatus(h.client, h.projectId);
    expect(failed!.note).toContain('fine-tuning needs at least 20');
    expect(failed!.phases.map((p) => p.phase)).toEqual(['planning', 'failed']);

    // 100 people's pool labels count; auto labels and eval labels do not.
    await give(pool.slice(10, 100), 'HUMAN');
    await give(pool.slice(100, 130), 'AUTO');
    await give(evalItems.slice(0, 5), 'HUMAN');
    const before = await h.db.db.projects.get(h.projectId);
    const result = await (await startEncoderTraining(h.client, fineTune, h.queues)).result();
    expect(result.phase).toBe('completed');
    const version = (await h.db.db.encoders.byId(result.encoderVersionId!))!;
    expect(version.name).toContain('-finetune-');
    const tuned = (version.sidecar as { training: { fineTunes: Record<string, unknown>[] } })
      .training.fineTunes;
    expect(tuned.at(-1)).toMatchObject({
      startedFrom: before.encoderVersionId,
      labeledImages: 100,
      unlabeledImages: pool.length - 100,
      classes: 10,
    });
    // The same architecture and input as the encoder it started from; new features for all.
    expect(version).toMatchObject({ inputWidth: 28, inputHeight: 28, channels: 1, dims: 128 });
    expect(await h.db.db.items.countWithoutFeatures(h.projectId, version.id)).toBe(0);
    expect(result.previousEncoderVersionId).toBe(before.encoderVersionId);
    expect((await h.db.db.projects.get(h.projectId)).encoderVersionId).toBe(version.id);
    const probe = [pool[0]!.id];
    const [oldFeature] = (await h.db.db.features.of(before.encoderVersionId!, probe)).values();
    const [newFeature] = (await h.db.db.features.of(version.id, probe)).values();
    expect(Array.from(newFeature!)).not.toEqual(Array.from(oldFeature!));
  });
});

describe('training on awkward images', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ limit: 40, budget: 0 });
    await h.startTrainer();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('too few images: refused with the minimum named, before any training', async () => {
    const handle = await startEncoderTraining(
      h.client,
      { projectId: h.projectId, objective: 'ae', epochs: 1 },
      h.queues,
    );
    await expect(handle.result()).rejects.toThrow();
    const status = await encoderTrainingStatus(h.client, h.projectId);
    expect(status!.phase).toBe('failed');
    expect(status!.note).toContain(`needs at least ${MIN_TRAINING_IMAGES}`);
    expect(status!.phases.map((p) => p.phase)).toEqual(['planning', 'failed']);
  });

  it('RGB JPEGs and gray PNGs of mixed sizes train at 64 x 64 RGB and embed; undecodable images are skipped and reported', async () => {
    // 80 photos of 30-150 px, RGB JPEG and gray PNG alternating, plus 3 files that look like
    // images to the importer's header check but cannot be decoded.
    const candidates = await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        const width = 30 + ((i * 37) % 121);
        const height = 30 + ((i * 53) % 121);
        const rgb = i % 2 === 0;
        const raw = Buffer.alloc(width * height * (rgb ? 3 : 1), 0);
        for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 3) + i * 11) % 256;
        const image = sharp(raw, { raw: { width, height, channels: rgb ? 3 : 1 } });
        const bytes = rgb ? await image.jpeg().toBuffer() : await image.png().toBuffer();
        return {
          bytes,
          info: {
            mimeType: rgb ? 'image/jpeg' : 'image/png',
            width,
            height,
            channels: rgb ? 3 : 1,
          },
          split: 'POOL' as const,
          sourceRef: `mixed-${i}`,
        };
      }),
    );
    const broken = [0, 1, 2].map((i) => ({
      bytes: Buffer.concat([candidates[i * 2]!.bytes.subarray(0, 200), Buffer.from(`cut ${i}`)]),
      info: { mimeType: 'image/jpeg', width: 100, height: 100, channels: 3 },
      split: 'POOL' as const,
      sourceRef: `broken-${i}`,
    }));
    await writeItems({ db: h.db.db, blobs: h.activities.blobs }, h.projectId, [
      ...candidates,
      ...broken,
    ]);
    const handle = await startEncoderTraining(
      h.client,
      { projectId: h.projectId, objective: 'simclr', epochs: 1, batchSize: 32 },
      h.queues,
    );
    const result = await handle.result();
    expect(result.input).toEqual({ width: 64, height: 64, channels: 3 });
    // 40 Fashion-MNIST pool images, 80 photos, 3 broken ones left out.
    expect(result.images).toBe(120);
    expect(result.skippedCount).toBe(3);
    expect(result.skipped.every((s) => /cannot decode/.test(s.reason))).toBe(true);
    const version = await h.db.db.encoders.byId(result.encoderVersionId!);
    expect(version).toMatchObject({ inputWidth: 64, inputHeight: 64, channels: 3 });
    expect(await h.db.db.items.countWithoutFeatures(h.projectId, version!.id)).toBe(0);
    expect((await h.db.db.projects.get(h.projectId)).encoderVersionId).toBe(version!.id);
  });
});
