// Label-error detection on Fashion-MNIST with errors put in on purpose. Per seed: --labels
// random training images keep their published class, except a --noise share of them, which get
// another class (the injected errors; Fashion-MNIST's own labels are taken as right). --errors
// random: any other class; confusable: the other class the image's neighbours vote for most
// (clean labels, k = 20), the mistake a person is likely to make.
// Detection: confident learning over leave-one-out kNN votes (packages/ml label-issues.ts), for
// each k of --ks, in the encoder's backbone space and, as the floor, on raw pixels. Reported:
// precision and recall of all flags, and of the first --budgets flags in the platform's review
// order (the review budget used). Then the effect on the model: a projection head trained on
// the labels as given, after a review of the first --review flags at the platform's k (a
// simulated reviewer gives each reviewed image its published class: simulated ground truth),
// and on clean labels (the ceiling); macro-F1 by kNN in head space on the 10k test images.
// Every variant of a seed shares its draws. Then near-duplicates (bench/lib/near-duplicates.ts):
// --near-copies disturbed copies among --near-base images, found by the distance between
// signatures (packages/ml signature.ts), with backbone features and raw pixels beside.
//
//   npm run bench:data-quality [-- --labels 2000 --noise 0.05 --errors random --seeds 0,1,2
//                                  --ks 10,20,30 --review 100 --encoder models/fashion-mnist-ae]
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  findLabelIssues,
  LABEL_CHECK_K,
  NEAR_DUPLICATE_DISTANCE,
  outOfSampleVotes,
  pickRows,
  project,
  seededRandom,
  shuffledIndices,
  trainHead,
} from '@beanstalk/ml';
import { writeSvgChart } from './lib/chart.ts';
import {
  backboneFeatures,
  CLASSES,
  loadEncoder,
  loadFashionMnist,
  log,
  pixelRows,
} from './lib/fashion-mnist.ts';
import { knnScore } from './lib/knn.ts';
import { measureNearDuplicates } from './lib/near-duplicates.ts';
import { meanSd, printTable, RESULTS_DIR, writeResults } from './lib/results.ts';

const { values: args } = parseArgs({
  options: {
    labels: { type: 'string', default: '2000' },
    noise: { type: 'string', default: '0.05' },
    errors: { type: 'string', default: 'random' },
    seeds: { type: 'string', default: '0,1,2' },
    ks: { type: 'string', default: '10,20,30' },
    budgets: { type: 'string', default: '50,100,150,200' },
    review: { type: 'string', default: '100' },
    encoder: { type: 'string', default: 'models/fashion-mnist-ae' },
    'near-base': { type: 'string', default: '10000' },
    'near-copies': { type: 'string', default: '500' },
    'near-thresholds': { type: 'string', default: '0.002,0.005,0.01,0.02,0.05' },
    out: { type: 'string', default: 'data-quality' },
  },
});
const LABELS = Number(args.labels);
const NOISE = Number(args.noise);
const ERRORS = args.errors as 'random' | 'confusable';
if (ERRORS !== 'random' && ERRORS !== 'confusable') throw new Error('--errors random|confusable');
const SEEDS = args.seeds!.split(',').map(Number);
const KS = args.ks!.split(',').map(Number);
if (!KS.includes(LABEL_CHECK_K)) KS.push(LABEL_CHECK_K);
const BUDGETS = args.budgets!.split(',').map(Number);
const REVIEW = Number(args.review);
const PIXELS = 28 * 28;

const data = await loadFashionMnist();
const encoder = await loadEncoder(args.encoder!);
log(`encoding 60k train and 10k test images with ${args.encoder}`);
const trainFeatures = await backboneFeatures(encoder, data.trainImages, data.trainLabels.length);
const testFeatures = await backboneFeatures(encoder, data.testImages, data.testLabels.length);
const DIMS = encoder.dims;
const trainPixels = pixelRows(data.trainImages, data.trainLabels.length);

type Space = 'backbone' | 'raw pixels';
/** default: the platform's rule; strict: confident learning's own (packages/ml label-issues.ts). */
type Rule = 'default' | 'strict';
interface Detection {
  seed: number;
  space: Space;
  k: number;
  rule: Rule;
  flagged: number;
  precision: number;
  recall: number;
  /** Precision and recall of the first `budget` flags in review order. */
  atBudget: { budget: number; precision: number; recall: number }[];
  /** Of the injected errors flagged, the share whose suggested class is the true one. */
  suggestionRight: number;
}
type Labels = 'as given' | 'after review' | 'clean';
interface Downstream {
  seed: number;
  labels: Labels;
  /** Labels still wrong in the set the head was trained on. */
  wrong: number;
  headMacroF1: number;
  backboneKnnMacroF1: number;
}
const detections: Detection[] = [];
const downstream: Downstream[] = [];

const started = Date.now();
for (const [s, seed] of SEEDS.entries()) {
  const random = seededRandom(seed * 7919 + 17);
  const chosen = shuffledIndices(data.trainLabels.length, random).slice(0, LABELS);
  const truth = Int32Array.from(chosen, (i) => data.trainLabels[i]!);
  const features = pickRows(trainFeatures, DIMS, chosen);
  const errors = shuffledIndices(LABELS, random).slice(0, Math.round(LABELS * NOISE));
  const wrongAt = new Set(errors);
  const given = Int32Array.from(truth);
  // Drawn for every item, so both kinds of error use the same random sequence.
  const other = errors.map(() => 1 + Math.floor(random() * (CLASSES - 1)));
  const cleanVotes =
    ERRORS === 'confusable'
      ? await outOfSampleVotes(features, truth, DIMS, LABEL_CHECK_K, CLASSES)
      : null;
  errors.forEach((i, n) => {
    if (!cleanVotes) {
      given[i] = (truth[i]! + other[n]!) % CLASSES;
      return;
    }
    const p = cleanVotes[i]!.probabilities;
    let best = -1;
    for (let c = 0; c < CLASSES; c++) {
      if (c !== truth[i] && (best < 0 || p[c]! > p[best]!)) best = c;
    }
    given[i] = best;
  });

  let reviewOrder: number[] = [];
  for (const [space, source, dims] of [
    ['backbone', features, DIMS],
    ['raw pixels', pickRows(trainPixels, PIXELS, chosen), PIXELS],
  ] as const) {
    for (const [k, rule] of KS.flatMap((k) =>
      (['default', 'strict'] as const).map((r) => [k, r] as const),
    )) {
      const votes = await outOfSampleVotes(source, given, dims, k, CLASSES);
      const issues = findLabelIssues(votes, given, CLASSES, { strict: rule === 'strict' });
      const order = issues.map((i) => i.index);
      const flaggedErrors = issues.filter((i) => wrongAt.has(i.index));
      const hits = (n: number) => order.slice(0, n).filter((i) => wrongAt.has(i)).length;
      detections.push({
        seed,
        space,
        k,
        rule,
        flagged: order.length,
        precision: order.length ? hits(order.length) / order.length : 0,
        recall: hits(order.length) / errors.length,
        atBudget: BUDGETS.map((budget) => ({
          budget,
          precision: hits(budget) / Math.min(budget, Math.max(1, order.length)),
          recall: hits(budget) / errors.length,
        })),
        suggestionRight:
          flaggedErrors.filter((i) => i.suggested === truth[i.index]).length /
          Math.max(1, flaggedErrors.length),
      });
      if (space === 'backbone' && k === LABEL_CHECK_K && rule === 'default') reviewOrder = order;
    }
  }

  // The review: the first REVIEW flags are looked at and given their true class.
  const reviewed = Int32Array.from(given);
  for (const i of reviewOrder.slice(0, REVIEW)) reviewed[i] = truth[i]!;
  for (const [labels, set] of [
    ['as given', given],
    ['after review', reviewed],
    ['clean', truth],
  ] as const) {
    const { weights } = await trainHead(features, Int32Array.from(set), { inputDims: DIMS, seed });
    const headDims = weights.shapes.at(-1)![0]!;
    const head = await knnScore(
      project(weights, features, LABELS),
      set,
      project(weights, testFeatures, data.testLabels.length),
      headDims,
      data.testLabels,
    );
    const knn = await knnScore(features, set, testFeatures, DIMS, data.testLabels);
    downstream.push({
      seed,
      labels,
      wrong: set.reduce((n, c, i) => n + (c === truth[i] ? 0 : 1), 0),
      headMacroF1: head.macroF1,
      backboneKnnMacroF1: knn.macroF1,
    });
  }
  const elapsed = (Date.now() - started) / 1000;
  log(`seed ${seed}: done, ETA ${((elapsed / (s + 1)) * (SEEDS.length - s - 1)).toFixed(0)} s`);
}

const stat = meanSd;
const shown = (values: number[], digits = 3) => {
  const { mean, sd } = stat(values);
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
};

const detectionTable = (['backbone', 'raw pixels'] as Space[]).flatMap((space) =>
  KS.flatMap((k) => (['default', 'strict'] as Rule[]).map((rule) => [k, rule] as const)).map(
    ([k, rule]) => {
      const of = detections.filter((d) => d.space === space && d.k === k && d.rule === rule);
      const row: Record<string, string | number> = {
        space,
        k,
        rule,
        flagged: shown(
          of.map((d) => d.flagged),
          1,
        ),
        'precision (all flags)': shown(of.map((d) => d.precision)),
        'recall (all flags)': shown(of.map((d) => d.recall)),
        'suggestion right': shown(of.map((d) => d.suggestionRight)),
      };
      for (const budget of BUDGETS) {
        const at = of.map((d) => d.atBudget.find((b) => b.budget === budget)!);
        row[`P/R first ${budget}`] =
          `${stat(at.map((b) => b.precision)).mean.toFixed(2)}/${stat(at.map((b) => b.recall)).mean.toFixed(2)}`;
      }
      return row;
    },
  ),
);
printTable(detectionTable);
const downstreamTable = (['as given', 'after review', 'clean'] as Labels[]).map((labels) => {
  const of = downstream.filter((d) => d.labels === labels);
  return {
    labels,
    'wrong labels': shown(
      of.map((d) => d.wrong),
      1,
    ),
    'head macro-F1': shown(of.map((d) => d.headMacroF1)),
    'backbone kNN macro-F1': shown(of.map((d) => d.backboneKnnMacroF1)),
  };
});
printTable(downstreamTable);

// Near-duplicates: the platform's signatures, with the encoder's features and raw pixels beside.
const nearRuns = await measureNearDuplicates({
  encoder,
  images: data.trainImages,
  count: data.trainLabels.length,
  seeds: SEEDS,
  base: Number(args['near-base']),
  copies: Number(args['near-copies']),
  thresholds: args['near-thresholds']!.split(',').map(Number),
});
await encoder.close();
const nearTable = (['signature', 'backbone', 'raw pixels'] as const).flatMap((space) =>
  [...new Set(nearRuns.map((r) => r.threshold))].map((threshold) => {
    const of = nearRuns.filter((r) => r.space === space && r.threshold === threshold);
    return {
      space,
      'distance ≤': threshold,
      pairs: shown(
        of.map((r) => r.pairs),
        1,
      ),
      precision: shown(of.map((r) => r.precision)),
      recall: shown(of.map((r) => r.recall)),
      'recall shift/grain/brightness': (['shift', 'grain', 'brightness'] as const)
        .map((k) => stat(of.map((r) => r.recallByKind[k])).mean.toFixed(2))
        .join('/'),
      's per 10k': shown(
        of.map((r) => r.secondsPer10k),
        2,
      ),
    };
  }),
);
printTable(nearTable);
const nearPlatform = nearRuns.filter(
  (r) => r.space === 'signature' && r.threshold === NEAR_DUPLICATE_DISTANCE,
);

// The headline: the platform's check (backbone, LABEL_CHECK_K) at the review budget.
const platform = detections.filter(
  (d) => d.space === 'backbone' && d.k === LABEL_CHECK_K && d.rule === 'default',
);
const atReview = (d: Detection) => d.atBudget.find((b) => b.budget === REVIEW);
const headOf = (labels: Labels) =>
  stat(downstream.filter((d) => d.labels === labels).map((d) => d.headMacroF1)).mean;
const gain = SEEDS.map((seed) => {
  const of = (labels: Labels) =>
    downstream.find((d) => d.seed === seed && d.labels === labels)!.headMacroF1;
  return of('after review') - of('as given');
});
const summary = {
  k: LABEL_CHECK_K,
  reviewBudget: REVIEW,
  labelErrorPrecision: platform.every(atReview)
    ? stat(platform.map((d) => atReview(d)!.precision)).mean
    : null,
  labelErrorPrecisionSd: platform.every(atReview)
    ? stat(platform.map((d) => atReview(d)!.precision)).sd
    : null,
  labelErrorRecall: platform.every(atReview)
    ? stat(platform.map((d) => atReview(d)!.recall)).mean
    : null,
  labelErrorRecallSd: platform.every(atReview)
    ? stat(platform.map((d) => atReview(d)!.recall)).sd
    : null,
  flagged: stat(platform.map((d) => d.flagged)).mean,
  allFlagsPrecision: stat(platform.map((d) => d.precision)).mean,
  allFlagsRecall: stat(platform.map((d) => d.recall)).mean,
  suggestionRight: stat(platform.map((d) => d.suggestionRight)).mean,
  headMacroF1AsGiven: headOf('as given'),
  headMacroF1AfterReview: headOf('after review'),
  headMacroF1Clean: headOf('clean'),
  reviewGainMean: stat(gain).mean,
  reviewGainSd: stat(gain).sd,
  nearDupDistance: NEAR_DUPLICATE_DISTANCE,
  nearDupPrecision: stat(nearPlatform.map((r) => r.precision)).mean,
  nearDupPrecisionSd: stat(nearPlatform.map((r) => r.precision)).sd,
  nearDupRecall: stat(nearPlatform.map((r) => r.recall)).mean,
  nearDupRecallSd: stat(nearPlatform.map((r) => r.recall)).sd,
  nearDupSecondsPer10k: stat(nearPlatform.map((r) => r.secondsPer10k)).mean,
};
const file = writeResults(args.out!, summary, {
  encoder: args.encoder,
  labels: LABELS,
  noise: NOISE,
  errors: ERRORS,
  ks: KS,
  seeds: SEEDS,
  simulated:
    'errors are injected into Fashion-MNIST labels; the review gives reviewed images their published class (simulated ground truth)',
  detections,
  downstream,
  nearDuplicates: {
    base: Number(args['near-base']),
    copies: Number(args['near-copies']),
    simulated:
      'copies of Fashion-MNIST images, shifted by 1-2 px, with grain or with brightness changed, are the duplicates to find',
    runs: nearRuns,
  },
});
await writeSvgChart(path.join(RESULTS_DIR, `${args.out}.svg`), {
  title: `Injected label errors (${ERRORS}, ${NOISE * 100}% of ${LABELS}) among the first flags in review order: mean ± sd over ${SEEDS.length} seeds`,
  data: {
    values: detections
      .filter((d) => d.k === LABEL_CHECK_K && d.rule === 'default')
      .flatMap((d) =>
        d.atBudget.flatMap((b) => [
          { space: d.space, budget: b.budget, measure: 'precision', value: b.precision },
          { space: d.space, budget: b.budget, measure: 'recall', value: b.recall },
        ]),
      ),
  },
  facet: { column: { field: 'measure', type: 'nominal', title: null } },
  spec: {
    width: 320,
    height: 220,
    layer: [
      {
        mark: { type: 'errorband', extent: 'stdev' },
        encoding: {
          x: { field: 'budget', type: 'quantitative', title: 'flags reviewed' },
          y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
          color: { field: 'space', type: 'nominal', title: `k = ${LABEL_CHECK_K}` },
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'budget', type: 'quantitative' },
          y: { aggregate: 'mean', field: 'value', type: 'quantitative' },
          color: { field: 'space', type: 'nominal' },
        },
      },
    ],
  },
});
log(`wrote ${file}`);
