// Anomaly detection, one-vs-rest on Fashion-MNIST, scored as the platform scores (the Scorer).
// For each class c and seed:
//   one-class split: c is normal, the other nine are anomalies;
//   reverse split:   the other nine are normal, c is the anomaly.
// Labels come only from the normal classes (known-good parts a team labels): --labels random
// training images of the normal classes. The unlabeled pool is the normal classes' training
// images with CONTAMINATION of anomalies mixed in (a production line's pool holds a few
// defects nobody has found yet). Anomaly references, two ways:
//   labeled: the labeled normal items only (with 0 labels the score is a constant);
//   labeled+pool: those plus POOL_ANOMALY_SAMPLE random unlabeled pool items.
// Spaces: backbone features; the projection head trained on the labels (where they span two
// or more classes, so the reverse split only: one class gives a head nothing to separate; at
// --head-labels); and combined (mean of the two calibrated ranks). The platform's own score is
// the rule in packages/model-runtime's loadAnomalyReferences (backbone space; the pool sample
// while fewer than MIN_NORMAL_LABELS normal items are labeled): the summary reads that row.
// Test = all 10k test images; AUROC per class, mean over classes, mean ± sd over seeds. Every
// seed's draws are shared by every variant.
//
//   npm run bench:anomaly [-- --labels 0,10,20,50,200 --seeds 0,1,2 --head-labels 200
//                            --encoder models/fashion-mnist-ae --out anomaly]
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ANOMALY_K,
  auroc,
  MIN_NORMAL_LABELS,
  pickRows,
  POOL_ANOMALY_SAMPLE,
  project,
  Scorer,
  seededRandom,
  shuffledIndices,
  trainHead,
} from '@beanstalk/ml';
import { writeSvgChart } from './lib/chart.ts';
import {
  backboneFeatures,
  CLASS_NAMES,
  CLASSES,
  loadEncoder,
  loadFashionMnist,
  log,
} from './lib/fashion-mnist.ts';
import { meanSd, printTable, RESULTS_DIR, writeResults } from './lib/results.ts';

/** Share of anomalies in the unlabeled pool. */
const CONTAMINATION = 0.05;

const { values: args } = parseArgs({
  options: {
    labels: { type: 'string', default: '0,10,20,50,200' },
    // Head trainings are what this benchmark spends its time on; the head is measured where
    // it has the most labels to learn from.
    'head-labels': { type: 'string', default: '200' },
    seeds: { type: 'string', default: '0,1,2' },
    // The demo's encoder; `--encoder models/fashion-mnist-dae --out anomaly-dae` for the other.
    encoder: { type: 'string', default: 'models/fashion-mnist-ae' },
    out: { type: 'string', default: 'anomaly' },
  },
});
const LABEL_COUNTS = args.labels!.split(',').map(Number);
const SEEDS = args.seeds!.split(',').map(Number);
const HEAD_LABELS = new Set(args['head-labels']!.split(',').map(Number));

const data = await loadFashionMnist();
const encoder = await loadEncoder(args.encoder!);
log(`encoding 60k train and 10k test images with ${args.encoder}`);
const trainFeatures = await backboneFeatures(encoder, data.trainImages, data.trainLabels.length);
const testFeatures = await backboneFeatures(encoder, data.testImages, data.testLabels.length);
const DIMS = encoder.dims;
await encoder.close();

type Split = 'one-class' | 'reverse';
type Refs = 'labeled' | 'labeled+pool';
type Space = 'backbone' | 'head' | 'combined';
interface Row {
  seed: number;
  labels: number;
  classIndex: number;
  split: Split;
  refs: Refs;
  space: Space;
  auroc: number;
}
const rows: Row[] = [];

/** Calibrated anomaly scores of the test images against anomaly references in one space. */
async function scores(
  train: Float32Array,
  test: Float32Array,
  dims: number,
  labeled: number[],
  pool: number[],
): Promise<number[]> {
  // The vote is not measured here: the references only carry the anomaly references' space.
  const scorer = await Scorer.create(
    {
      vectors: pickRows(train, dims, labeled),
      dims,
      labels: new Int32Array(labeled.length),
      normal: [true],
    },
    {
      k: 1,
      anomaly: {
        vectors: pickRows(train, dims, [...labeled, ...pool]),
        dims,
        labeled: labeled.length,
      },
    },
  );
  try {
    return (await scorer.score(test)).map((s) => s.anomalyScore);
  } finally {
    await scorer.release();
  }
}

const started = Date.now();
const cases = SEEDS.length * CLASSES * 2 * LABEL_COUNTS.length;
for (const seed of SEEDS) {
  for (let c = 0; c < CLASSES; c++) {
    for (const split of ['one-class', 'reverse'] as Split[]) {
      const isNormal = (label: number) => (split === 'one-class' ? label === c : label !== c);
      const positive = Array.from(data.testLabels, (label) => !isNormal(label));
      const random = seededRandom(seed * 1009 + c * 2 + (split === 'reverse' ? 1 : 0));
      const order = shuffledIndices(data.trainLabels.length, random);
      const normalItems = order.filter((i) => isNormal(data.trainLabels[i]!));
      const anomalies = order.filter((i) => !isNormal(data.trainLabels[i]!));
      // The pool: every normal training image plus anomalies making up CONTAMINATION of it.
      const contamination = Math.round((normalItems.length * CONTAMINATION) / (1 - CONTAMINATION));
      const poolItems = [...normalItems, ...anomalies.slice(0, contamination)];
      const poolSample = shuffledIndices(poolItems.length, random)
        .slice(0, POOL_ANOMALY_SAMPLE)
        .map((i) => poolItems[i]!);
      for (const labels of LABEL_COUNTS) {
        const labeled = normalItems.slice(0, labels);
        const spaces: Partial<Record<'backbone' | 'head', Record<Refs, number[]>>> = {};
        const of = async (train: Float32Array, test: Float32Array, dims: number) => ({
          labeled: await scores(train, test, dims, labeled, []),
          'labeled+pool': await scores(train, test, dims, labeled, poolSample),
        });
        spaces.backbone = await of(trainFeatures, testFeatures, DIMS);
        const labelClasses = new Set(labeled.map((i) => data.trainLabels[i]!));
        if (labelClasses.size >= 2 && HEAD_LABELS.has(labels)) {
          const { weights } = await trainHead(
            pickRows(trainFeatures, DIMS, labeled),
            Int32Array.from(labeled, (i) => data.trainLabels[i]!),
            { inputDims: DIMS, seed },
          );
          const dims = weights.shapes.at(-1)![0]!;
          spaces.head = await of(
            project(weights, trainFeatures, data.trainLabels.length),
            project(weights, testFeatures, data.testLabels.length),
            dims,
          );
        }
        for (const refs of ['labeled', 'labeled+pool'] as Refs[]) {
          const push = (space: Space, s: number[]) =>
            rows.push({
              seed,
              labels,
              classIndex: c,
              split,
              refs,
              space,
              auroc: auroc(s, positive),
            });
          push('backbone', spaces.backbone[refs]);
          if (spaces.head) {
            const backbone = spaces.backbone[refs];
            const head = spaces.head[refs];
            push('head', head);
            push(
              'combined',
              head.map((h, i) => (h + backbone[i]!) / 2),
            );
          }
        }
      }
      const done = rows.length
        ? new Set(rows.map((r) => `${r.seed}/${r.classIndex}/${r.split}`)).size
        : 0;
      const elapsed = (Date.now() - started) / 1000;
      const eta = (elapsed / done) * (cases / LABEL_COUNTS.length - done);
      log(
        `seed ${seed} ${CLASS_NAMES[c]} ${split}: ${done}/${cases / LABEL_COUNTS.length} splits, ETA ${eta.toFixed(0)} s`,
      );
    }
  }
}

/** Mean over classes per seed, then mean and sd over seeds. */
function summarise(
  filter: (r: Row) => boolean,
): { mean: number; sd: number; seeds: number } | null {
  const perSeed = SEEDS.map((seed) => {
    const selected = rows.filter((r) => r.seed === seed && filter(r));
    return selected.length === CLASSES
      ? selected.reduce((sum, r) => sum + r.auroc, 0) / selected.length
      : null;
  }).filter((v): v is number => v !== null);
  if (perSeed.length === 0) return null;
  return { ...meanSd(perSeed), seeds: perSeed.length };
}

const table: Record<string, string | number>[] = [];
const means: {
  split: Split;
  labels: number;
  refs: Refs;
  space: Space;
  mean: number;
  sd: number;
}[] = [];
for (const split of ['one-class', 'reverse'] as Split[]) {
  for (const labels of LABEL_COUNTS) {
    for (const refs of ['labeled', 'labeled+pool'] as Refs[]) {
      const cells: Record<string, string | number> = { split, labels, refs };
      for (const space of ['backbone', 'head', 'combined'] as Space[]) {
        const s = summarise(
          (r) => r.split === split && r.labels === labels && r.refs === refs && r.space === space,
        );
        cells[space] = s ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : '—';
        if (s) means.push({ split, labels, refs, space, mean: s.mean, sd: s.sd });
      }
      table.push(cells);
    }
  }
}
printTable(table);

/**
 * The platform's score: backbone space; the labeled normal items, and while fewer than
 * MIN_NORMAL_LABELS, the pool sample too.
 */
const platform = (split: Split, labels: number) =>
  means.find(
    (m) =>
      m.split === split &&
      m.labels === labels &&
      m.refs === (labels < MIN_NORMAL_LABELS ? 'labeled+pool' : 'labeled') &&
      m.space === 'backbone',
  ) ?? null;
const summary = {
  meanAuroc0: platform('one-class', 0)?.mean ?? null,
  meanAuroc50: platform('one-class', 50)?.mean ?? null,
  meanAuroc200: platform('one-class', 200)?.mean ?? null,
  meanAuroc200Sd: platform('one-class', 200)?.sd ?? null,
  reverseMeanAuroc0: platform('reverse', 0)?.mean ?? null,
  reverseMeanAuroc200: platform('reverse', 200)?.mean ?? null,
};
const file = writeResults(args.out!, summary, {
  encoder: args.encoder,
  anomalyK: ANOMALY_K,
  minNormalLabels: MIN_NORMAL_LABELS,
  contamination: CONTAMINATION,
  poolSample: POOL_ANOMALY_SAMPLE,
  seeds: SEEDS,
  means,
  rows,
});
await writeSvgChart(path.join(RESULTS_DIR, `${args.out}.svg`), {
  title: 'Fashion-MNIST one-vs-rest anomaly AUROC (mean of 10 classes, ± sd over seeds)',
  width: 260,
  height: 220,
  data: {
    values: means.map((m) => ({
      ...m,
      variant: `${m.space}, ${m.refs}`,
      low: m.mean - m.sd,
      high: m.mean + m.sd,
    })),
  },
  facet: { column: { field: 'split', type: 'nominal', title: null } },
  spec: {
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'labels', type: 'quantitative', title: 'normal items labeled' },
          y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: 'AUROC' },
          color: { field: 'variant', type: 'nominal', title: 'space, references' },
        },
      },
      {
        mark: { type: 'errorbar' },
        encoding: {
          x: { field: 'labels', type: 'quantitative' },
          y: { field: 'low', type: 'quantitative' },
          y2: { field: 'high' },
          color: { field: 'variant', type: 'nominal' },
        },
      },
    ],
  },
});
log(`wrote ${file} and ${args.out}.svg`);
