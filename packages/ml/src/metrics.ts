export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  microF1: number;
  perClass: ClassMetrics[];
  /** confusion[truth][predicted] */
  confusion: number[][];
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const f1Of = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/** Per-class precision/recall/F1, macro and micro F1, accuracy and the confusion matrix. */
export function classificationReport(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: number,
): ClassificationReport {
  if (truth.length !== predicted.length) {
    throw new RangeError(`${truth.length} true labels but ${predicted.length} predictions`);
  }
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) confusion[truth[i]!]![predicted[i]!]! += 1;
  let correct = 0;
  const perClass = confusion.map((row, c) => {
    const tp = row[c]!;
    correct += tp;
    const predictedAsC = confusion.reduce((sum, r) => sum + r[c]!, 0);
    const support = row.reduce((a, b) => a + b, 0);
    const precision = ratio(tp, predictedAsC);
    const recall = ratio(tp, support);
    return { precision, recall, f1: f1Of(precision, recall), support };
  });
  const accuracy = ratio(correct, truth.length);
  // Single-label multi-class: micro precision = micro recall = accuracy.
  return {
    accuracy,
    macroF1: perClass.reduce((sum, m) => sum + m.f1, 0) / classes,
    microF1: accuracy,
    perClass,
    confusion,
  };
}

export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
  /** How many items score at or above the threshold. */
  accepted: number;
}

/**
 * Precision-recall curve of scores against binary truth, one point per distinct score,
 * thresholds descending (a point includes every item scoring >= its threshold).
 */
export function precisionRecallCurve(
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean>,
): PrPoint[] {
  const order = Array.from(scores, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const positives = Array.from(positive).filter(Boolean).length;
  const points: PrPoint[] = [];
  let tp = 0;
  for (let i = 0; i < order.length; i++) {
    if (positive[order[i]!]) tp++;
    const score = scores[order[i]!]!;
    if (i + 1 < order.length && scores[order[i + 1]!] === score) continue;
    points.push({
      threshold: score,
      precision: tp / (i + 1),
      recall: ratio(tp, positives),
      accepted: i + 1,
    });
  }
  return points;
}

/** Area under the ROC curve: the probability a random positive outscores a random negative. */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = Array.from(scores, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1; // ties share the mean rank
    for (let t = i; t <= j; t++) {
      if (positive[order[t]!]) {
        rankSum += averageRank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
