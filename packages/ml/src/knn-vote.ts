/** One labeled reference found near a query: its class index and cosine distance. */
export interface Reference {
  classIndex: number;
  distance: number;
}

export interface Vote {
  /** Class probabilities, summing to 1. */
  probabilities: Float64Array;
  predicted: number;
  /** Probability of the predicted class. */
  confidence: number;
  /** Top probability minus the runner-up: small means the vote was close. */
  margin: number;
  /** Shannon entropy of the probabilities, in nats. */
  entropy: number;
}

/**
 * Distance-weighted vote over the k nearest labeled references. Weights fall off as
 * 1 / (distance + epsilon) so an exact match dominates; the result is a distribution over
 * classes, from which confidence, margin and entropy follow. Decided at query time, so k and
 * thresholds can change without retraining.
 */
export function vote(neighbours: Reference[], classes: number, epsilon = 1e-3): Vote {
  const probabilities = new Float64Array(classes);
  if (neighbours.length === 0) {
    probabilities.fill(1 / classes);
  } else {
    for (const n of neighbours) {
      if (n.classIndex < 0 || n.classIndex >= classes) {
        throw new RangeError(`class index ${n.classIndex} is outside 0..${classes - 1}`);
      }
      probabilities[n.classIndex]! += 1 / (Math.max(0, n.distance) + epsilon);
    }
    const total = probabilities.reduce((a, b) => a + b, 0);
    for (let c = 0; c < classes; c++) probabilities[c]! /= total;
  }
  let predicted = 0;
  for (let c = 1; c < classes; c++)
    if (probabilities[c]! > probabilities[predicted]!) predicted = c;
  let runnerUp = 0;
  for (let c = 0; c < classes; c++) {
    if (c !== predicted && probabilities[c]! > runnerUp) runnerUp = probabilities[c]!;
  }
  let entropy = 0;
  for (const p of probabilities) if (p > 0) entropy -= p * Math.log(p);
  const confidence = probabilities[predicted]!;
  return { probabilities, predicted, confidence, margin: confidence - runnerUp, entropy };
}

/**
 * Raw anomaly score: mean cosine distance to the nearest references of the classes counted as
 * normal. Larger is more unusual; calibrate() maps it to [0, 1].
 */
export function anomalyDistance(normalNeighbours: Reference[], k = 5): number {
  if (normalNeighbours.length === 0) return 2;
  const nearest = [...normalNeighbours].sort((a, b) => a.distance - b.distance).slice(0, k);
  return nearest.reduce((sum, n) => sum + n.distance, 0) / nearest.length;
}

/**
 * Maps raw anomaly distances to [0, 1] by their rank among held-out normal items' distances:
 * 0.95 means more unusual than 95% of known-normal items.
 */
export function anomalyCalibration(heldOutNormalDistances: number[]): (distance: number) => number {
  const sorted = Float64Array.from(heldOutNormalDistances).sort();
  return (distance) => {
    if (sorted.length === 0) return Math.min(1, distance / 2);
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= distance) lo = mid + 1;
      else hi = mid;
    }
    return lo / sorted.length;
  };
}
