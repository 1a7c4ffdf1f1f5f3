export interface ThresholdChoice {
  /** Accept predictions whose confidence is >= this. Infinity: no threshold reaches the target. */
  threshold: number;
  /** Precision of the accepted calibration predictions at this threshold. */
  precision: number;
  /** How many calibration predictions it accepts. */
  accepted: number;
}

/**
 * The lowest confidence threshold at which predictions on held-out human labels are correct
 * at least `targetPrecision` of the time, with at least `minAccepted` of them accepted (a
 * precision measured on three items means nothing). This is how auto-accept trades recall
 * for precision without retraining.
 */
export function thresholdForPrecision(
  confidences: ArrayLike<number>,
  correct: ArrayLike<boolean>,
  targetPrecision: number,
  minAccepted = 20,
): ThresholdChoice {
  const order = Array.from(confidences, (_, i) => i).sort(
    (a, b) => confidences[b]! - confidences[a]!,
  );
  let best: ThresholdChoice = { threshold: Number.POSITIVE_INFINITY, precision: 1, accepted: 0 };
  let hits = 0;
  for (let i = 0; i < order.length; i++) {
    if (correct[order[i]!]) hits++;
    const confidence = confidences[order[i]!]!;
    if (i + 1 < order.length && confidences[order[i + 1]!] === confidence) continue;
    const precision = hits / (i + 1);
    if (i + 1 >= minAccepted && precision >= targetPrecision) {
      best = { threshold: confidence, precision, accepted: i + 1 };
    }
  }
  return best;
}
