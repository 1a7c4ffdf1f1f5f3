// Screen of the learning loop's third semi-supervised lever before it goes into the platform:
// fine-tuning the encoder's last stage with the labels (apps/trainer `finetune`, the code a
// training worker would run), against the encoder as it is, with the same random labels.
// Library level (no rounds): it says whether the lever is worth building into the rounds, not
// what the platform gains.
//
// For each seed and label count the labeled pool items are the first of one seeded draw (the
// draw bench:label-propagation uses), and the next `--unlabeled` items of the same draw are the
// unlabeled images the fine-tuning keeps near their former features. Four spaces are scored by
// the platform's kNN vote (k = 10) over the labeled items, on the 10 000 test images against
// their human labels: backbone features before and after fine-tuning, and the platform's
// projection head (trainHead, seeded per seed and label count, as a round trains it) on each.
// Raw-pixel kNN with the same labels is the floor, in the same run.
//
//   npm run bench:fine-tune -- [--pool 60000] [--seeds 0,1,2] [--labels 100,200,600,1000]
//                              [--encoder models/fashion-mnist-ae] [--unlabeled 10000]
//
// Results: bench/results/fine-tune.json (one entry per pool and encoder under runs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { npzBytes } from '@beanstalk/ingest';
import { pickRows, seededRandom, shuffledIndices } from '@beanstalk/ml';
import {
  backboneFeatures,
  loadEncoder,
  loadFashionMnist,
  log,
  pixelRows,
  ROOT,
} from './lib/fashion-mnist.ts';
import { headKnnScore, knnScore } from './lib/knn.ts';
import { commandLine, meanSd, printTable, withRun, writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    pool: { type: 'string', default: '60000' },
    seeds: { type: 'string', default: '0,1,2' },
    labels: { type: 'string', default: '100,200,600,1000' },
    encoder: { type: 'string', default: 'models/fashion-mnist-ae' },
    unlabeled: { type: 'string', default: '10000' },
    python: { type: 'string', default: '/usr/bin/python3' },
    threads: { type: 'string', default: '2' },
  },
});
const POOL = Number(args.pool);
const UNLABELED = Number(args.unlabeled);
const SEEDS = args.seeds!.split(',').map(Number);
const LABELS = args.labels!.split(',').map(Number);
if (!(Number.isInteger(POOL) && POOL >= 1000 && POOL <= 60_000)) {
  throw new Error(`--pool must be 1000..60000 (got ${args.pool})`);
}
if (!LABELS.every((n) => Number.isInteger(n) && n >= 10 && n + UNLABELED <= POOL)) {
  throw new Error(`--labels must be whole counts of at least 10, each + --unlabeled <= --pool`);
}
const PIXELS = 28 * 28;
const began = Date.now();

const data = await loadFashionMnist();
const EVAL = data.testLabels.length;
const truth = data.testLabels;
const encoder = await loadEncoder(args.encoder!);
const dims = encoder.dims;
const pool = await backboneFeatures(encoder, data.trainImages, POOL);
const evalRows = await backboneFeatures(encoder, data.testImages, EVAL);
await encoder.close();
const poolPixels = pixelRows(data.trainImages, POOL);
const evalPixels = pixelRows(data.testImages, EVAL);
log(`features: ${POOL} pool + ${EVAL} eval, ${dims} dims (${args.encoder})`);

/** The images of `items` (pool indices), one after another. */
function imagesOf(items: number[]): Uint8Array {
  const out = new Uint8Array(items.length * PIXELS);
  items.forEach((item, i) =>
    out.set(data.trainImages.subarray(item * PIXELS, (item + 1) * PIXELS), i * PIXELS),
  );
  return out;
}

interface Point {
  seed: number;
  labels: number;
  pixels: number;
  knn: number;
  knnTuned: number;
  head: number;
  headTuned: number;
  fineTuneSeconds: number;
}
const points: Point[] = [];
const work = path.join(ROOT, 'bench/.models/fine-tune');
const total = SEEDS.length * LABELS.length;
for (const seed of SEEDS) {
  const order = shuffledIndices(POOL, seededRandom(7919 * (seed + 1)));
  for (const count of LABELS) {
    const labeled = order.slice(0, count);
    const unlabeled = order.slice(count, count + UNLABELED);
    const classes = labeled.map((i) => data.trainLabels[i]!);
    const out = path.join(work, `${POOL}-${seed}-${count}`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const file = path.join(out, 'data.npz');
    const items = [...labeled, ...unlabeled];
    writeFileSync(
      file,
      npzBytes({
        images: { dtype: 'u1', data: imagesOf(items), shape: [items.length, 1, 28, 28] },
        labels: {
          dtype: 'i8',
          data: BigInt64Array.from(items, (_, i) => BigInt(i < count ? classes[i]! : -1)),
          shape: [items.length],
        },
      }),
    );
    const started = Date.now();
    const tuned = spawnSync(
      args.python!,
      [
        ...['-m', 'beanstalk_trainer', 'finetune', '--encoder', path.join(ROOT, args.encoder!)],
        ...['--data', file, '--out', out, '--seed', String(seed), '--threads', args.threads!],
      ],
      { cwd: path.join(ROOT, 'apps/trainer'), stdio: 'inherit' },
    );
    if (tuned.status !== 0) throw new Error(`trainer exited with ${tuned.status}`);
    const fineTuneSeconds = (Date.now() - started) / 1000;
    const tunedEncoder = await loadEncoder(path.relative(ROOT, out));
    const tunedLabeled = await backboneFeatures(tunedEncoder, imagesOf(labeled), count);
    const tunedEval = await backboneFeatures(tunedEncoder, data.testImages, EVAL);
    await tunedEncoder.close();
    const labeledRows = pickRows(pool, dims, labeled);
    const point: Point = {
      seed,
      labels: count,
      pixels: (
        await knnScore(pickRows(poolPixels, PIXELS, labeled), classes, evalPixels, PIXELS, truth)
      ).macroF1,
      knn: (await knnScore(labeledRows, classes, evalRows, dims, truth)).macroF1,
      knnTuned: (await knnScore(tunedLabeled, classes, tunedEval, dims, truth)).macroF1,
      head: await headKnnScore(labeledRows, classes, evalRows, dims, truth, seed),
      headTuned: await headKnnScore(tunedLabeled, classes, tunedEval, dims, truth, seed),
      fineTuneSeconds,
    };
    points.push(point);
    const left = ((Date.now() - began) / points.length) * (total - points.length);
    log(
      `seed ${seed}, ${count} labels: pixels ${point.pixels.toFixed(3)}, kNN ${point.knn.toFixed(3)} -> ` +
        `${point.knnTuned.toFixed(3)} fine-tuned, head ${point.head.toFixed(3)} -> ${point.headTuned.toFixed(3)} ` +
        `(${points.length}/${total}, fine-tuning ${fineTuneSeconds.toFixed(0)} s, about ${(left / 60_000).toFixed(0)} min left)`,
    );
  }
}

const series = LABELS.map((count) => {
  const at = points.filter((p) => p.labels === count);
  const of = (pick: (p: Point) => number) => meanSd(at.map(pick));
  return {
    labels: count,
    pixels: of((p) => p.pixels),
    knn: of((p) => p.knn),
    knnTuned: of((p) => p.knnTuned),
    head: of((p) => p.head),
    headTuned: of((p) => p.headTuned),
    // Paired by seed: the same labels on both sides.
    knnGain: of((p) => p.knnTuned - p.knn),
    headGain: of((p) => p.headTuned - p.head),
    fineTuneSeconds: of((p) => p.fineTuneSeconds),
  };
});
const fmt = (s: { mean: number; sd: number }, sign = false) =>
  `${sign && s.mean >= 0 ? '+' : ''}${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}`;
printTable(
  series.map((s) => ({
    labels: s.labels,
    'raw pixels': fmt(s.pixels),
    kNN: fmt(s.knn),
    'kNN fine-tuned': fmt(s.knnTuned),
    'gain (paired)': fmt(s.knnGain, true),
    head: fmt(s.head),
    'head fine-tuned': fmt(s.headTuned),
    'head gain (paired)': fmt(s.headGain, true),
  })),
);
const key = `${POOL}-${path.basename(args.encoder!)}`;
const runs = withRun('fine-tune', key, {
  command: commandLine('fine-tune'),
  date: new Date().toISOString(),
  pool: POOL,
  eval: EVAL,
  encoder: args.encoder,
  unlabeled: UNLABELED,
  seeds: SEEDS,
  truth: 'macro-F1 of the 10 000 test images against their human labels (library level, no rounds)',
  minutes: (Date.now() - began) / 60_000,
  series,
  points,
});
// Per run (pool and encoder): the paired gain of the head on the fine-tuned encoder at 600.
const at600 = (pick: (s: (typeof series)[number]) => number) =>
  Object.fromEntries(
    Object.entries(runs).map(([k, r]) => [
      k,
      (() => {
        const s = r.series.find((x) => x.labels === 600);
        return s ? pick(s) : null;
      })(),
    ]),
  );
writeResults(
  'fine-tune',
  { headGainAt600: at600((s) => s.headGain.mean), knnGainAt600: at600((s) => s.knnGain.mean) },
  { runs },
);
log('wrote bench/results/fine-tune.json');
