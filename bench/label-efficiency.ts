// Label efficiency, library level: Fashion-MNIST train = pool with labels hidden behind a
// simulated oracle, test = eval. Cold start with 20 random labels, then rounds of selection up
// to each checkpoint; at each checkpoint the projection head is trained on the human labels
// and kNN over the projected vectors is scored on the eval split. Votes, auto-accept and
// evaluation go through the platform's scoring module (Scorer, planAutoAccept), as a round does.
// References in the same run: head on all 60k labels + kNN, kNN on raw pixels (eval sample),
// and the supervised CNN's macro-F1 from models/fashion-mnist-supervised (trainer output).
//
//   npm run bench:label-efficiency [-- --runs random,margin-diversity --auto both|on|off]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  initialWeights,
  pickRows,
  planAutoAccept,
  project,
  Scorer,
  seededRandom,
  selectForLabeling,
  shuffledIndices,
  trainHead,
  type HeadWeights,
  type Strategy,
} from '@beanstalk/ml';
import { writeSvgChart } from './lib/chart.ts';
import {
  backboneFeatures,
  CLASSES,
  loadEncoder,
  loadFashionMnist,
  log,
  pixelRows,
  ROOT,
} from './lib/fashion-mnist.ts';
import { K, knnScore, votesOf } from './lib/knn.ts';
import { printTable, RESULTS_DIR, writeResults } from './lib/results.ts';

const COLD_START = 20;
/** Unlabeled pool items scored per round (a fresh random sample each round). */
const CANDIDATES = 10_000;
const AUTO_PRECISION_TARGET = 0.98;
const REFERENCE_EVAL_SAMPLE = 2000;

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: 'random,margin,margin-diversity' },
    auto: { type: 'string', default: 'both' },
    seed: { type: 'string', default: '0' },
    checkpoints: { type: 'string', default: '50,100,200,500,600,1000,2000' },
    references: { type: 'string', default: 'on' },
    pool: { type: 'string', default: '60000' },
    encoder: { type: 'string', default: 'models/fashion-mnist-dae' },
    out: { type: 'string', default: 'label-efficiency' },
  },
});
const CHECKPOINTS = args.checkpoints!.split(',').map(Number);
const withReferences = args.references !== 'off';
const strategies = args.runs!.split(',') as Strategy[];
const autoModes = args.auto === 'both' ? [false, true] : [args.auto === 'on'];
const seed = Number(args.seed);

const data = await loadFashionMnist();
const { trainImages, testImages } = data;
const truth = data.trainLabels.subarray(0, Number(args.pool));
const evalLabels = data.testLabels;
const POOL = truth.length;

const encoder = await loadEncoder(args.encoder!);
const DIMS = encoder.dims;
log(`encoding ${POOL} pool and ${evalLabels.length} eval images with ${args.encoder}`);
const poolFeatures = await backboneFeatures(encoder, trainImages, POOL);
const evalFeatures = await backboneFeatures(encoder, testImages, evalLabels.length);

/** The simulated labeler: answers from the hidden ground truth and counts questions. */
class Oracle {
  asked = 0;
  answer(items: number[]): number[] {
    this.asked += items.length;
    return items.map((i) => truth[i]!);
  }
}

async function fitHead(items: number[], labels: number[], runSeed: number): Promise<HeadWeights> {
  const { weights } = await trainHead(
    pickRows(poolFeatures, DIMS, items),
    Int32Array.from(labels),
    {
      inputDims: DIMS,
      seed: runSeed,
    },
  );
  return weights;
}

function evaluate(weights: HeadWeights, refs: number[], refLabels: number[]) {
  return knnScore(
    project(weights, pickRows(poolFeatures, DIMS, refs), refs.length),
    refLabels,
    project(weights, evalFeatures, evalLabels.length),
    128,
    evalLabels,
  );
}

interface Point {
  run: string;
  humanLabels: number;
  macroF1: number;
  accuracy: number;
  autoAccepted: number;
  autoPrecision: number | null;
  seconds: number;
}

/** A labeled eval set as a team would have it: what auto-accept measures its precision on. */
const CALIBRATION_EVAL = 1000;

/**
 * Auto-accept as a round does it: planAutoAccept votes the labeled eval items (the first
 * CALIBRATION_EVAL, never trained on) against the human labels and gives the threshold (the
 * 95% lower bound of their precision above it meets the target); every unlabeled pool
 * prediction above it, voted against all current references (human and auto), is taken.
 */
async function autoAccept(
  weights: HeadWeights,
  human: { items: number[]; labels: number[] },
  auto: { items: number[]; labels: number[] },
) {
  const humanScorer = await Scorer.create(
    {
      vectors: project(weights, pickRows(poolFeatures, DIMS, human.items), human.items.length),
      dims: 128,
      labels: human.labels,
      normal: Array(CLASSES).fill(true),
    },
    { k: K },
  );
  const plan = await planAutoAccept({
    human: humanScorer,
    calibration: {
      vectors: project(
        weights,
        evalFeatures.subarray(0, CALIBRATION_EVAL * DIMS),
        CALIBRATION_EVAL,
      ),
      labels: evalLabels.subarray(0, CALIBRATION_EVAL),
    },
    precisionTarget: AUTO_PRECISION_TARGET,
  }).finally(() => humanScorer.release());
  if (plan.threshold === null) return { items: [], labels: [] };
  const taken = new Set([...human.items, ...auto.items]);
  const unlabeled = Array.from({ length: POOL }, (_, i) => i).filter((i) => !taken.has(i));
  const references = [...human.items, ...auto.items];
  const votes = await votesOf(
    project(weights, pickRows(poolFeatures, DIMS, references), references.length),
    [...human.labels, ...auto.labels],
    project(weights, pickRows(poolFeatures, DIMS, unlabeled), unlabeled.length),
    128,
  );
  const accepted = unlabeled
    .map((item, j) => ({ item, vote: votes[j]! }))
    .filter((c) => c.vote.confidence >= plan.threshold!);
  return { items: accepted.map((a) => a.item), labels: accepted.map((a) => a.vote.predicted) };
}

async function simulate(strategy: Strategy, withAuto: boolean): Promise<Point[]> {
  const run = `${strategy}${withAuto ? ' + auto-accept' : ''}`;
  const random = seededRandom(seed * 1000 + strategies.indexOf(strategy) * 10 + (withAuto ? 1 : 0));
  const oracle = new Oracle();
  const labeled = shuffledIndices(POOL, random).slice(0, COLD_START);
  const labels = oracle.answer(labeled);
  // Auto labels stay once given, as in the platform: references, never head training data.
  const auto = { items: [] as number[], labels: [] as number[] };
  const points: Point[] = [];
  let weights = initialWeights({
    kind: 'mlp',
    inputDims: DIMS,
    outputDims: 128,
    hiddenDims: 256,
    seed,
  });
  for (const checkpoint of CHECKPOINTS) {
    const roundStarted = Date.now();
    const budget = checkpoint - labeled.length;
    const taken = new Set([...labeled, ...auto.items]);
    const candidates = shuffledIndices(POOL, random)
      .filter((i) => !taken.has(i))
      .slice(0, CANDIDATES);
    let chosen: number[];
    if (strategy === 'random') {
      chosen = candidates.slice(0, budget);
    } else {
      const candidateVectors = project(
        weights,
        pickRows(poolFeatures, DIMS, candidates),
        candidates.length,
      );
      const references = [...labeled, ...auto.items];
      const votes = await votesOf(
        project(weights, pickRows(poolFeatures, DIMS, references), references.length),
        [...labels, ...auto.labels],
        candidateVectors,
        128,
      );
      const embeddings = Array.from({ length: candidates.length }, (_, i) =>
        candidateVectors.subarray(i * 128, (i + 1) * 128),
      );
      chosen = selectForLabeling(votes, budget, strategy, { seed, embeddings }).map(
        (i) => candidates[i]!,
      );
    }
    labeled.push(...chosen);
    labels.push(...oracle.answer(chosen));
    weights = await fitHead(labeled, labels, seed);
    let autoAccepted = 0;
    let autoPrecision: number | null = null;
    if (withAuto) {
      const added = await autoAccept(weights, { items: labeled, labels }, auto);
      auto.items.push(...added.items);
      auto.labels.push(...added.labels);
      autoAccepted = auto.items.length;
      autoPrecision = autoAccepted
        ? auto.items.filter((item, j) => truth[item] === auto.labels[j]).length / autoAccepted
        : null;
    }
    const score = await evaluate(weights, [...labeled, ...auto.items], [...labels, ...auto.labels]);
    if (oracle.asked !== checkpoint)
      throw new Error(`${run}: asked ${oracle.asked} labels, expected ${checkpoint}`);
    const point = {
      run,
      humanLabels: checkpoint,
      ...score,
      autoAccepted,
      autoPrecision,
      seconds: (Date.now() - roundStarted) / 1000,
    };
    points.push(point);
    log(
      `${run} @ ${checkpoint}: macro-F1 ${score.macroF1.toFixed(4)}, accuracy ${score.accuracy.toFixed(4)}${withAuto ? `, auto ${autoAccepted} (precision ${autoPrecision?.toFixed(3) ?? '-'})` : ''}`,
    );
  }
  return points;
}

const points: Point[] = [];
for (const strategy of strategies)
  for (const withAuto of autoModes) points.push(...(await simulate(strategy, withAuto)));

// References kNN-classify the first REFERENCE_EVAL_SAMPLE eval images against all 60k labeled
// items.
let headAll = { macroF1: Number.NaN, accuracy: Number.NaN };
let raw = { macroF1: Number.NaN, accuracy: Number.NaN };
if (withReferences) {
  log(
    `reference (a): head trained on all ${POOL} labels + kNN (first ${REFERENCE_EVAL_SAMPLE} eval images)`,
  );
  const all = Array.from({ length: POOL }, (_, i) => i);
  const allHead = await fitHead(all, Array.from(truth), seed);
  const sample = evalLabels.subarray(0, REFERENCE_EVAL_SAMPLE);
  headAll = await knnScore(
    project(allHead, pickRows(poolFeatures, DIMS, all), POOL),
    truth,
    project(allHead, evalFeatures.subarray(0, REFERENCE_EVAL_SAMPLE * DIMS), REFERENCE_EVAL_SAMPLE),
    128,
    sample,
  );
  log(`  macro-F1 ${headAll.macroF1.toFixed(4)}`);
  log(
    `reference (c): kNN on raw pixels, all ${POOL} labels (first ${REFERENCE_EVAL_SAMPLE} eval images)`,
  );
  raw = await knnScore(
    pixelRows(trainImages, POOL),
    truth,
    pixelRows(testImages, REFERENCE_EVAL_SAMPLE),
    784,
    sample,
  );
  log(`  macro-F1 ${raw.macroF1.toFixed(4)}`);
}

const supervisedFile = path.join(ROOT, 'models/fashion-mnist-supervised/metrics.json');
const supervised = existsSync(supervisedFile)
  ? (JSON.parse(readFileSync(supervisedFile, 'utf8')) as { macroF1: number; accuracy: number })
  : null;
log(
  `reference (b): supervised CNN on all labels: ${supervised ? supervised.macroF1.toFixed(4) : 'not trained (see apps/trainer README)'}`,
);

const at = (run: string, labels: number) =>
  points.find((p) => p.run === run && p.humanLabels === labels)?.macroF1 ?? Number.NaN;
const runs = [...new Set(points.map((p) => p.run))];
const best600 = runs.map((run) => ({ run, f1: at(run, 600) })).sort((a, b) => b.f1 - a.f1)[0]!;
printTable(
  runs.map((run) => ({
    run,
    ...Object.fromEntries(CHECKPOINTS.map((c) => [String(c), at(run, c).toFixed(3)])),
  })),
);
printTable([
  { reference: 'head on all 60k labels + kNN', macroF1: headAll.macroF1.toFixed(3) },
  {
    reference: `kNN on raw pixels, all labels (eval sample ${REFERENCE_EVAL_SAMPLE})`,
    macroF1: raw.macroF1.toFixed(3),
  },
  {
    reference: 'supervised CNN, all labels',
    macroF1: supervised ? supervised.macroF1.toFixed(3) : 'n/a',
  },
]);
const summary = {
  macroF1At600: best600.f1,
  bestStrategyAt600: best600.run,
  supervisedMacroF1: supervised?.macroF1 ?? null,
  ratio: supervised ? best600.f1 / supervised.macroF1 : null,
  headAllLabelsMacroF1: headAll.macroF1,
  rawPixelsMacroF1: raw.macroF1,
};
const file = writeResults(args.out!, summary, {
  encoder: args.encoder,
  k: K,
  coldStart: COLD_START,
  candidatesPerRound: CANDIDATES,
  autoPrecisionTarget: AUTO_PRECISION_TARGET,
  seed,
  points,
  references: {
    headAllLabels: headAll,
    rawPixels: {
      ...raw,
      evalSample: REFERENCE_EVAL_SAMPLE,
      perClass: undefined,
      confusion: undefined,
    },
    supervised,
  },
});
const chartPoints = [
  ...points.map((p) => ({ labels: p.humanLabels, macroF1: p.macroF1, series: p.run })),
  ...CHECKPOINTS.flatMap((c) => [
    ...(withReferences
      ? [{ labels: c, macroF1: headAll.macroF1, series: 'head, all 60k labels' }]
      : []),
    ...(supervised
      ? [{ labels: c, macroF1: supervised.macroF1, series: 'supervised CNN, all labels' }]
      : []),
  ]),
];
await writeSvgChart(path.join(RESULTS_DIR, `${args.out}.svg`), {
  title: 'Fashion-MNIST: eval macro-F1 against human labels spent',
  width: 560,
  height: 340,
  data: { values: chartPoints },
  mark: { type: 'line', point: true },
  encoding: {
    x: { field: 'labels', type: 'quantitative', scale: { type: 'log' }, title: 'human labels' },
    y: {
      field: 'macroF1',
      type: 'quantitative',
      scale: { zero: false },
      title: 'macro-F1 (eval, 10k)',
    },
    color: { field: 'series', type: 'nominal', title: null },
  },
});
log(`wrote ${file} and ${args.out}.svg`);
await encoder.close();
