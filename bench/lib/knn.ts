// kNN scoring as the benchmarks use it: the platform's Scorer (exact search, the same vote a
// round uses), k = 10, scored against the true classes.
import { classificationReport, project, Scorer, trainHead, type Vote } from '@beanstalk/ml';
import { CLASSES } from './fashion-mnist.ts';

export const K = 10;

/** Votes of `queries` against labeled `references`, by the platform's Scorer (k = K). */
export async function votesOf(
  references: Float32Array,
  referenceLabels: ArrayLike<number>,
  queries: Float32Array,
  dims: number,
): Promise<Vote[]> {
  const scorer = await Scorer.create(
    { vectors: references, dims, labels: referenceLabels, normal: Array(CLASSES).fill(true) },
    { k: K },
  );
  try {
    return await scorer.votes(queries);
  } finally {
    await scorer.release();
  }
}

/** kNN-classifies `queries` against labeled `references` and scores against `truth`. */
export async function knnScore(
  references: Float32Array,
  referenceLabels: ArrayLike<number>,
  queries: Float32Array,
  dims: number,
  truth: ArrayLike<number>,
) {
  const votes = await votesOf(references, referenceLabels, queries, dims);
  const report = classificationReport(
    truth,
    votes.map((v) => v.predicted),
    CLASSES,
  );
  return { macroF1: report.macroF1, accuracy: report.accuracy };
}

/**
 * kNN macro-F1 in the space of a projection head trained as a round trains it (`trainHead`,
 * seeded by `seed` and the label count) on the labeled rows, with optional training-only
 * `extra` examples; the labeled rows are the references.
 */
export async function headKnnScore(
  labeledRows: Float32Array,
  classes: number[],
  queries: Float32Array,
  dims: number,
  truth: ArrayLike<number>,
  seed: number,
  extra?: { features: Float32Array; labels: Int32Array },
): Promise<number> {
  const { weights } = await trainHead(
    labeledRows,
    Int32Array.from(classes),
    { inputDims: dims, outputDims: 128, seed: seed * 1000 + classes.length },
    extra && { extra },
  );
  const references = project(weights, labeledRows, classes.length);
  return (await knnScore(references, classes, project(weights, queries, truth.length), 128, truth))
    .macroF1;
}
