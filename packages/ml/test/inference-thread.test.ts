import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Encoder,
  HeadProjector,
  InferenceThread,
  initialWeights,
  normaliseRows,
  ReferenceSearch,
  runSteps,
  seededRandom,
  stackRows,
} from '../src/index.ts';
import { graphSession } from '../src/onnx-graph.ts';

const repo = path.resolve(import.meta.dirname, '../../..');
const MODEL = path.join(repo, 'models/fashion-mnist-dae/encoder.onnx');

const unitRows = (n: number, dims: number, seed: number) => {
  const random = seededRandom(seed);
  return normaliseRows(
    Float32Array.from({ length: n * dims }, () => random() * 2 - 1),
    dims,
  );
};

/** setImmediate turns the calling thread's event loop takes while `work` runs. */
async function turnsDuring(work: Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const finished = work.finally(() => (done = true));
  await new Promise<void>((resolve) => {
    const turn = () => {
      if (done) return resolve();
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
  });
  await finished;
  return turns;
}

/** The thread's worker, to make it die as a crashed one would. */
const workerOf = (thread: InferenceThread) => (thread as unknown as { worker: Worker }).worker;

describe('InferenceThread', () => {
  let thread: InferenceThread;
  beforeAll(() => {
    thread = new InferenceThread();
  });
  afterAll(async () => {
    await thread.close();
  });

  it('runs the encoder, a head and a search with the same answers as the calling thread, alone or as one chain', async () => {
    const raw = gunzipSync(
      await readFile('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'),
    );
    const images = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => ({
        name: `test-${i}.png`,
        bytes: await sharp(Buffer.from(raw.subarray(16 + i * 784, 16 + (i + 1) * 784)), {
          raw: { width: 28, height: 28, channels: 1 },
        })
          .png()
          .toBuffer(),
      })),
    );
    const here = await Encoder.load(MODEL, { threads: 1 });
    const there = await Encoder.load(MODEL, { threads: 1, thread });
    const features = await here.embedImages(images);
    expect(await there.embedImages(images)).toEqual(features);
    expect(there.dims).toBe(here.dims);

    const weights = initialWeights({
      kind: 'mlp',
      inputDims: here.dims,
      outputDims: 16,
      hiddenDims: 24,
      seed: 3,
    });
    const flat = normaliseRows(Float32Array.from(features.flatMap((f) => [...f])), here.dims);
    const [headHere, headThere] = await Promise.all([
      HeadProjector.create(weights, 1),
      HeadProjector.create(weights, 1, thread),
    ]);
    expect(await headThere.project(flat, 8)).toEqual(await headHere.project(flat, 8));

    const refs = unitRows(500, 16, 4);
    const queries = unitRows(40, 16, 5);
    const [searchHere, searchThere] = await Promise.all([
      ReferenceSearch.create(refs, 16, 7, 1),
      ReferenceSearch.create(refs, 16, 7, 1, thread),
    ]);
    expect(await searchThere.search(queries)).toEqual(await searchHere.search(queries));

    // The three as one chain (what a classification runs): the step-by-step answers, and one
    // message to the thread for the whole chain.
    const stepByStep = await searchHere.search(await headHere.project(flat, 8));
    const pixels = stackRows(await Promise.all(images.map((i) => here.preprocess(i))), 784);
    const chain = (encoder: Encoder, head: HeadProjector, search: ReferenceSearch) =>
      runSteps([
        encoder.embedStep(pixels, 8),
        head.projectStep({ step: 0, output: encoder.outputName, normalise: true }),
        search.searchStep({ step: 1, output: head.outputName, normalise: true })!,
      ]);
    expect(searchHere.found((await chain(here, headHere, searchHere))[2]!)).toEqual(stepByStep);
    const worker = workerOf(thread);
    const post = worker.postMessage.bind(worker);
    let posted = 0;
    worker.postMessage = (message: unknown) => {
      posted++;
      post(message);
    };
    try {
      const there3 = await chain(there, headThere, searchThere);
      expect(posted).toBe(1);
      expect(searchThere.found(there3[2]!)).toEqual(stepByStep);
    } finally {
      worker.postMessage = post;
    }
    for (const r of [here, there]) await r.close();
    for (const r of [headHere, headThere, searchHere, searchThere]) await r.release();
  });

  it('keeps the calling thread free while a model runs', async () => {
    // 1 000 queries against 5 000 references: a few hundred milliseconds of MatMul and TopK.
    const refs = unitRows(5_000, 128, 6);
    const queries = unitRows(1_000, 128, 7);
    const here = await ReferenceSearch.create(refs, 128, 10, 1);
    const there = await ReferenceSearch.create(refs, 128, 10, 1, thread);
    // onnxruntime-node runs a session synchronously on its caller: the loop stops meanwhile.
    expect(await turnsDuring(here.search(queries))).toBeLessThan(10);
    expect(await turnsDuring(there.search(queries))).toBeGreaterThan(100);
    await here.release();
    await there.release();
  });

  it('answers onnxruntime errors as errors and keeps serving', async () => {
    const session = await graphSession(
      {
        nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
        initializers: [],
        inputs: [{ name: 'x', dims: [null, 4] }],
        outputs: [{ name: 'y', type: 'float32', dims: [null, 4] }],
      },
      1,
      thread,
    );
    expect(session.inputNames).toEqual(['x']);
    await expect(
      session.run({ x: new ort.Tensor('float32', new Float32Array(6), [2, 3]) }),
    ).rejects.toThrow(/dimension/i);
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.of(-1, 2, -3, 4), [1, 4]),
    });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 2, 0, 4]);
    expect(out.y!.dims).toEqual([1, 4]);
    await session.release();
  });

  it('fails the calls a dying thread held; the next call starts a new thread with its sessions', async () => {
    const refs = unitRows(5_000, 128, 8);
    const queries = unitRows(1_000, 128, 9);
    const search = await ReferenceSearch.create(refs, 128, 10, 1, thread);
    const expected = await search.search(queries);
    const first = workerOf(thread);
    const held = search.search(queries);
    await first.terminate();
    await expect(held).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await search.search(queries)).toEqual(expected);
    expect(workerOf(thread)).not.toBe(first);
    await search.release();
  });

  it('refuses calls once closed', async () => {
    const closing = new InferenceThread();
    const search = await ReferenceSearch.create(unitRows(20, 8, 10), 8, 3, 1, closing);
    await closing.close();
    await expect(search.search(unitRows(2, 8, 11))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    await search.release();
  });
});
