// Anomaly detection, one-vs-rest on Fashion-MNIST. For each class c:
//   one-class split: c is normal, the other nine are anomalies;
//   reverse split:   the other nine are normal, c is the anomaly.
// Normal references are the training images of the normal classes (a batch of known-good parts
// imported as the normal reference; the reverse split samples NORMAL_REFERENCES of them to keep
// exact search affordable). The score is the platform's, from its Scorer: the rank of the mean
// cosine distance to the nearest ANOMALY_K normal references among the normal references' own,
// in backbone space with 0 labels and in the projection head's space once the head is trained
// on 50 or 200 random human labels (10-class labels, the same head for every split). Test =
// all 10k test images.
//
//   npm run bench:anomaly [-- --labels 0,50,200 --seeds 0]
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ANOMALY_K,
  auroc,
  pickRows,
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
import { printTable, RESULTS_DIR, writeResults } from './lib/results.ts';

const NORMAL_REFERENCES = 6000;

const { values: args } = parseArgs({
  options: {
    labels: { type: 'string', default: '0,50,200' },
    seed: { type: 'string', default: '0' },
    encoder: { type: 'string', default: 'models/fashion-mnist-dae' },
  },
});
const LABEL_COUNTS = args.labels!.split(',').map(Number);
const seed = Number(args.seed);

const data = await loadFashionMnist();
const encoder = await loadEncoder(args.encoder!);
log(`encoding 60k train and 10k test images with ${args.encoder}`);
const trainFeatures = await backboneFeatures(encoder, data.trainImages, data.trainLabels.length);
const testFeatures = await backboneFeatures(encoder, data.testImages, data.testLabels.length);
const DIMS = encoder.dims;
await encoder.close();

/** The vector space for a label count: backbone features, or a head trained on random labels. */
async function space(labels: number) {
  if (labels === 0) return { train: trainFeatures, test: testFeatures, dims: DIMS };
  const random = seededRandom(seed * 7919 + labels);
  const items = shuffledIndices(data.trainLabels.length, random).slice(0, labels);
  const { weights } = await trainHead(
    pickRows(trainFeatures, DIMS, items),
    Int32Array.from(items, (i) => data.trainLabels[i]!),
    { inputDims: DIMS, seed },
  );
  const dims = weights.shapes.at(-1)![0]!;
  return {
    train: project(weights, trainFeatures, data.trainLabels.length),
    test: project(weights, testFeatures, data.testLabels.length),
    dims,
  };
}

async function splitAuroc(
  vectors: { train: Float32Array; test: Float32Array; dims: number },
  isNormal: (label: number) => boolean,
  random: () => number,
): Promise<number> {
  const normalItems = shuffledIndices(data.trainLabels.length, random)
    .filter((i) => isNormal(data.trainLabels[i]!))
    .slice(0, NORMAL_REFERENCES);
  // Every reference is of the one normal class: the vote does not matter here, the score does.
  const scorer = await Scorer.create(
    {
      vectors: pickRows(vectors.train, vectors.dims, normalItems),
      dims: vectors.dims,
      labels: new Int32Array(normalItems.length),
      normal: [true],
    },
    { k: ANOMALY_K },
  );
  try {
    const scores = (await scorer.score(vectors.test)).map((s) => s.anomalyScore);
    return auroc(
      scores,
      Array.from(data.testLabels, (label) => !isNormal(label)),
    );
  } finally {
    await scorer.release();
  }
}

interface Row {
  labels: number;
  classIndex: number;
  split: 'one-class' | 'reverse';
  normal: string;
  auroc: number;
}
const rows: Row[] = [];
for (const labels of LABEL_COUNTS) {
  log(`${labels} labels: ${labels ? 'training the head' : 'backbone features'}`);
  const vectors = await space(labels);
  for (let c = 0; c < CLASSES; c++) {
    const random = seededRandom(seed * 31 + c);
    rows.push({
      labels,
      classIndex: c,
      split: 'one-class',
      normal: CLASS_NAMES[c]!,
      auroc: await splitAuroc(vectors, (label) => label === c, random),
    });
    rows.push({
      labels,
      classIndex: c,
      split: 'reverse',
      normal: `all but ${CLASS_NAMES[c]}`,
      auroc: await splitAuroc(vectors, (label) => label !== c, random),
    });
    log(
      `  ${CLASS_NAMES[c]}: one-class ${rows.at(-2)!.auroc.toFixed(3)}, reverse ${rows.at(-1)!.auroc.toFixed(3)}`,
    );
  }
}

const mean = (labels: number, split?: Row['split']) => {
  const selected = rows.filter((r) => r.labels === labels && (!split || r.split === split));
  return selected.reduce((sum, r) => sum + r.auroc, 0) / selected.length;
};
printTable(
  CLASS_NAMES.map((name, c) => ({
    class: name,
    ...Object.fromEntries(
      LABEL_COUNTS.flatMap((labels) => {
        const of = (split: Row['split']) =>
          rows.find((r) => r.labels === labels && r.split === split && r.classIndex === c)!;
        return [
          [`one-class@${labels}`, of('one-class').auroc.toFixed(3)],
          [`reverse@${labels}`, of('reverse').auroc.toFixed(3)],
        ];
      }),
    ),
  })),
);
printTable(
  LABEL_COUNTS.map((labels) => ({
    labels,
    'one-class mean': mean(labels, 'one-class').toFixed(3),
    'reverse mean': mean(labels, 'reverse').toFixed(3),
  })),
);
const summary = {
  meanAuroc0: LABEL_COUNTS.includes(0) ? mean(0, 'one-class') : null,
  meanAuroc50: LABEL_COUNTS.includes(50) ? mean(50, 'one-class') : null,
  meanAuroc200: LABEL_COUNTS.includes(200) ? mean(200, 'one-class') : null,
  reverseMeanAuroc0: LABEL_COUNTS.includes(0) ? mean(0, 'reverse') : null,
  reverseMeanAuroc200: LABEL_COUNTS.includes(200) ? mean(200, 'reverse') : null,
};
const file = writeResults('anomaly', summary, {
  encoder: args.encoder,
  anomalyK: ANOMALY_K,
  normalReferences: NORMAL_REFERENCES,
  seed,
  rows,
});
await writeSvgChart(path.join(RESULTS_DIR, 'anomaly.svg'), {
  title: 'Fashion-MNIST one-vs-rest anomaly AUROC by labels spent',
  width: 560,
  height: 300,
  data: { values: rows.map((r) => ({ ...r, class: CLASS_NAMES[r.classIndex] })) },
  mark: { type: 'bar' },
  encoding: {
    x: { field: 'class', type: 'nominal', title: null, sort: CLASS_NAMES },
    xOffset: { field: 'labels', type: 'nominal' },
    y: { field: 'auroc', type: 'quantitative', scale: { domain: [0, 1] }, title: 'AUROC' },
    color: { field: 'labels', type: 'nominal', title: 'human labels' },
    row: { field: 'split', type: 'nominal', title: null },
  },
});
log(`wrote ${file} and anomaly.svg`);
