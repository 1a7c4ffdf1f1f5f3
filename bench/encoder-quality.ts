// Encoder quality by objective: each objective pretrains the same encoder (apps/trainer, the
// code the training worker runs) on the first `pool` Fashion-MNIST training images, labels set
// aside; then kNN (the platform's Scorer, k = 10) over its backbone features classifies the
// 10 000 test images, with every pool label and with 100 / 200 / 600 / 1000 random labels,
// drawn per seed and shared by every objective and by kNN on raw pixels in the same run.
// Labels are Fashion-MNIST's human labels. Training time per epoch is the trainer's own record.
//
//   npm run bench:encoder-quality -- --pool 8000 --epochs ae=10,dae=10,simclr=30
//   npm run bench:encoder-quality -- --pool 60000 --epochs ae=6,dae=6,simclr=15
//
// Trained encoders go to bench/.models/<pool>-<objective>/ and are reused (and trained
// further, with --resume) by the next run that asks for more epochs. `--existing
// ae=models/fashion-mnist-ae` evaluates an encoder trained before (by the same trainer, on the
// same pool) instead of training one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { npyBytes, pickRows, seededRandom, shuffledIndices } from '@beanstalk/ml';
import {
  backboneFeatures,
  loadEncoder,
  loadFashionMnist,
  log,
  pixelRows,
  ROOT,
} from './lib/fashion-mnist.ts';
import { knnScore } from './lib/knn.ts';
import { meanSd, printTable, withRun, writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    pool: { type: 'string', default: '8000' },
    epochs: { type: 'string', default: 'ae=10,dae=10,simclr=30' },
    labels: { type: 'string', default: '100,200,600,1000' },
    seeds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    default: { type: 'string', default: 'simclr' },
    python: { type: 'string', default: '/usr/bin/python3' },
    existing: { type: 'string', default: '' },
  },
});
const POOL = Number(args.pool);
const LABELS = args.labels!.split(',').map(Number);
const SEEDS = Number(args.seeds);
const epochsOf = Object.fromEntries(
  args.epochs!.split(',').map((pair) => {
    const [objective, epochs] = pair.split('=');
    return [objective!, Number(epochs)];
  }),
) as Record<string, number>;
const existing = Object.fromEntries(
  args
    .existing!.split(',')
    .filter(Boolean)
    .map((pair) => pair.split('=') as [string, string]),
);
const OBJECTIVES = [...new Set([...Object.keys(epochsOf), ...Object.keys(existing)])];

interface Spread {
  mean: number;
  sd: number;
  values: number[];
}
const spread = (values: number[]): Spread => ({ ...meanSd(values), values });

const data = await loadFashionMnist();
const truth = data.trainLabels.subarray(0, POOL);
const testTruth = data.testLabels;
const TEST = testTruth.length;

// The same random labeled subsets for every objective and for raw pixels: one per (size, seed).
const draws = LABELS.map((n) =>
  Array.from({ length: SEEDS }, (_, seed) =>
    shuffledIndices(POOL, seededRandom(1000 + seed)).slice(0, n),
  ),
);

/** kNN macro-F1 with every pool label and with each random subset, for one space. */
async function evaluate(poolRows: Float32Array, testRows: Float32Array, dims: number) {
  const all = await knnScore(poolRows, truth, testRows, dims, testTruth);
  const at: Record<string, Spread> = {};
  for (const [i, n] of LABELS.entries()) {
    const values: number[] = [];
    for (const rows of draws[i]!) {
      const refs = pickRows(poolRows, dims, rows);
      values.push(
        (
          await knnScore(
            refs,
            rows.map((r) => truth[r]!),
            testRows,
            dims,
            testTruth,
          )
        ).macroF1,
      );
    }
    at[n] = spread(values);
  }
  return { allLabelsMacroF1: all.macroF1, at };
}

const work = path.join(ROOT, 'bench/.models');
mkdirSync(work, { recursive: true });
const npy = path.join(work, `fashion-mnist-pool-${POOL}.npy`);
writeFileSync(npy, npyBytes(data.trainImages.subarray(0, POOL * 784), [POOL, 1, 28, 28]));

const results: Record<string, Awaited<ReturnType<typeof evaluate>> & Record<string, unknown>> = {};
for (const objective of OBJECTIVES) {
  const given = existing[objective];
  const out = given ? path.join(ROOT, given) : path.join(work, `${POOL}-${objective}`);
  if (given) {
    log(`evaluating ${objective} from ${given} (trained before)`);
  } else {
    log(`pretraining ${objective} on ${POOL} images to ${epochsOf[objective]} epochs (${out})`);
    const trained = spawnSync(
      args.python!,
      [
        ...['-m', 'beanstalk_trainer', 'pretrain', '--data', npy, '--out', out],
        ...['--objective', objective, '--epochs', String(epochsOf[objective]), '--seed', '0'],
        ...['--threads', args.threads!, '--resume'],
      ],
      { cwd: path.join(ROOT, 'apps/trainer'), stdio: 'inherit' },
    );
    if (trained.status !== 0) throw new Error(`trainer exited with ${trained.status}`);
  }
  const sidecar = JSON.parse(readFileSync(path.join(out, 'encoder.json'), 'utf8')) as {
    training: {
      epochs: number;
      images: number;
      epochSeconds?: number[];
      lossCurve: number[];
      device: string;
    };
  };
  if (sidecar.training.images !== POOL) {
    throw new Error(
      `${out} was trained on ${sidecar.training.images} images, not this pool's ${POOL}`,
    );
  }
  const encoder = await loadEncoder(path.relative(ROOT, out));
  log(`  encoding ${POOL} pool and ${TEST} test images`);
  const poolFeatures = await backboneFeatures(encoder, data.trainImages, POOL);
  const testFeatures = await backboneFeatures(encoder, data.testImages, TEST);
  await encoder.close();
  const seconds = sidecar.training.epochSeconds ?? [];
  results[objective] = {
    ...(await evaluate(poolFeatures, testFeatures, encoder.dims)),
    epochs: sidecar.training.epochs,
    model: path.relative(ROOT, out),
    lossCurve: sidecar.training.lossCurve,
    device: sidecar.training.device,
    // Epochs trained by an earlier run of this benchmark are timed as they were then.
    secondsPerEpoch: seconds.length ? spread(seconds) : null,
  };
  log(`  all labels ${results[objective].allLabelsMacroF1.toFixed(4)}`);
}
log('raw pixels (the trivial baseline, same draws)');
const raw = await evaluate(
  pixelRows(data.trainImages, POOL),
  pixelRows(data.testImages, TEST),
  784,
);

printTable(
  [...OBJECTIVES.map((o) => [o, results[o]!] as const), ['raw pixels', raw] as const].map(
    ([name, r]) => ({
      space: name,
      'all labels': r.allLabelsMacroF1.toFixed(4),
      ...Object.fromEntries(
        LABELS.map((n) => [
          `${n} (mean ± sd)`,
          `${r.at[n]!.mean.toFixed(4)} ± ${r.at[n]!.sd.toFixed(4)}`,
        ]),
      ),
    }),
  ),
);

const chosen = results[args.default!];
const run = {
  pool: POOL,
  test: TEST,
  seeds: SEEDS,
  labelCounts: LABELS,
  threads: Number(args.threads),
  objectives: results,
  rawPixels: raw,
};
const name = 'encoder-quality';
const runs = withRun(name, `pool-${POOL}`, run);
const full = runs['pool-60000'] as typeof run | undefined;
const small = runs['pool-8000'] as typeof run | undefined;
// Per pool: the default objective where that run trained it, else the run's best space at 600
// labels, named.
const summaryOf = (r: typeof run | undefined) => {
  if (!r) return null;
  const [objective, d] =
    Object.entries(r.objectives).find(([o]) => o === args.default) ??
    Object.entries(r.objectives).sort(
      ([, a], [, b]) => (b.at[600]?.mean ?? 0) - (a.at[600]?.mean ?? 0),
    )[0]!;
  return {
    objective,
    allLabelsMacroF1: d.allLabelsMacroF1,
    macroF1At600: d.at[600]?.mean ?? null,
    rawPixelsAt600: r.rawPixels.at[600]?.mean ?? null,
  };
};
const file = writeResults(
  name,
  {
    default: args.default,
    fullPool: summaryOf(full),
    smallPool: summaryOf(small),
  },
  { runs },
);
log(`wrote ${file}${chosen ? '' : ` (no ${args.default} run in this pool)`}`);
