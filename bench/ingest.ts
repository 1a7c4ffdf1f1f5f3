// Ingest scale-out: images/s of one ingest of all of Fashion-MNIST (70 000 PNGs: blob read,
// decode, encoder, features written) shared by 1, 2 and 4 gpu-queue worker processes, run by
// the real ingest workflow on the real Temporal server (its pages are activities that any
// gpu worker takes). Each run embeds every item afresh, for a copy of the project's encoder
// registered under a new name (as trainEncoder's ingest does), in a copy of bench:round's
// template database.
//
//   npm run bench:ingest [-- --workers 1,2,4] [-- --lanes 4]
//
// On a machine with few cores the workers share them: the figure then says what the cores
// allow, not what more machines would give. bench/results/ingest.json.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ingest } from '@beanstalk/workflows';
import { dropDatabase } from '../tooling/testing/src/index.ts';
import { log } from './lib/fashion-mnist.ts';
import {
  benchTemporal,
  buildFashionMnist,
  ensureTemplate,
  spawnWorker,
  workingCopy,
} from './lib/platform.ts';
import { printTable, writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,4' },
    lanes: { type: 'string', default: '4' },
  },
});
const WORKERS = args.workers.split(',').map(Number);
const LANES = Number(args.lanes);
if (!WORKERS.every((n) => Number.isInteger(n) && n >= 1 && n <= 16)) {
  throw new Error(`--workers must list whole numbers 1..16 (got ${args.workers})`);
}
if (!(Number.isInteger(LANES) && LANES >= 1 && LANES <= 16)) {
  throw new Error(`--lanes must be a whole number 1..16 (got ${args.lanes})`);
}
const TEMPLATE = 'bench_round_fashion_mnist';
const SLUG = 'fashion-mnist';

const { id, queues, connection, client } = await benchTemporal();
await ensureTemplate(TEMPLATE, (db, database) =>
  buildFashionMnist(db, database, { client, queues, slug: SLUG }),
);
const database = `bench_ingest_${id}`;
const db = await workingCopy(TEMPLATE, database);

interface Run {
  workers: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
}
const runs: Run[] = [];
const orchestration = await spawnWorker('orchestration', database, queues, { quiet: true });
try {
  const project = (await db.projects.bySlug(SLUG))!;
  const encoder = (await db.encoders.byId(project.encoderVersionId!))!;
  // Each worker count twice, in an interleaved order, so drift of the machine shows.
  for (const workers of [...WORKERS, ...[...WORKERS].reverse()]) {
    const copy = await db.encoders.create({
      name: `${encoder.name}-ingest-bench-${id}-${runs.length}`,
      onnxBlobKey: encoder.onnxBlobKey,
      sidecar: encoder.sidecar as object,
      inputWidth: encoder.inputWidth,
      inputHeight: encoder.inputHeight,
      channels: encoder.channels,
      dims: encoder.dims,
    });
    const gpu = await Promise.all(
      Array.from({ length: workers }, () => spawnWorker('gpu', database, queues, { quiet: true })),
    );
    try {
      const started = performance.now();
      const handle = await client.workflow.start(ingest, {
        taskQueue: queues.orchestration,
        workflowId: `bench-ingest-${id}-${runs.length}`,
        args: [
          {
            projectId: project.id,
            gpuTaskQueue: queues.gpu,
            encoderVersionId: copy.id,
            parallelism: LANES,
          },
        ],
      });
      const result = await handle.result();
      const seconds = (performance.now() - started) / 1000;
      runs.push({
        workers,
        images: result.embedded,
        seconds,
        imagesPerSecond: result.embedded / seconds,
      });
      log(
        `${workers} gpu worker(s): ${result.embedded} images in ${seconds.toFixed(1)} s, ${(result.embedded / seconds).toFixed(0)} images/s`,
      );
    } finally {
      for (const worker of gpu) worker.kill('SIGTERM');
      await sleep(1000);
    }
  }
  const rate = (n: number) => {
    const of = runs.filter((r) => r.workers === n).map((r) => r.imagesPerSecond);
    return of.length ? of.reduce((s, x) => s + x, 0) / of.length : null;
  };
  printTable(
    WORKERS.map((n) => ({
      'gpu workers': n,
      'images/s (mean of 2)': rate(n)!.toFixed(0),
      'vs one worker': (rate(n)! / rate(1)!).toFixed(2),
    })),
  );
  const file = writeResults(
    'ingest',
    {
      imagesPerSecond: Object.fromEntries(WORKERS.map((n) => [n, rate(n)])),
      scaling2: rate(2) && rate(1) ? rate(2)! / (2 * rate(1)!) : null,
      scaling4: rate(4) && rate(1) ? rate(4)! / (4 * rate(1)!) : null,
      cores: os.cpus().length,
    },
    { lanes: LANES, runs },
  );
  log(`wrote ${file}`);
} finally {
  orchestration.kill('SIGTERM');
  await db.close();
  await connection.close();
  await sleep(1000);
  await dropDatabase(database);
}
