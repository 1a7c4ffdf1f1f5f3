export interface ThresholdChoice {
  /** Accept predictions whose confidence is >= this. Infinity: no threshold reaches the target. */
  threshold: number;
  /** Precision of the accepted calibration predictions at this threshold. */
  precision: number;
  /**
   * One-sided Clopper–Pearson lower bound of that precision (at the level each candidate is
   * tried at): the precision the accepted predictions have at least, unless the calibration
   * set was unluckily good. Null when nothing is accepted.
   */
  lowerBound: number | null;
  /** How many calibration predictions it accepts. */
  accepted: number;
}

/**
 * The lowest confidence threshold at which predictions on held-out labeled items are right at
 * least `targetPrecision` of the time, as a lower confidence bound, not a point estimate: a
 * precision measured on few items must be near perfect, one measured on many may dip towards
 * the target. Only `candidates` thresholds are tried: those accepting the top n items for n
 * spaced geometrically from the fewest that could pass at all (if all were right) up to every
 * item, chosen from the item count alone. Each is tried at level 1 - (1 - level)/candidates,
 * so the guarantee holds for the one picked, not only for each alone (Bonferroni; picking the
 * lowest of all thresholds that pass one by one broke it: 94% coverage instead of 95%,
 * measured in the tests). This is how auto-accept trades recall for precision without
 * retraining.
 */
export function thresholdForPrecision(
  confidences: ArrayLike<number>,
  correct: ArrayLike<boolean>,
  targetPrecision: number,
  options: { confidenceLevel?: number; candidates?: number } = {},
): ThresholdChoice {
  const candidates = options.candidates ?? 16;
  const level = 1 - (1 - (options.confidenceLevel ?? 0.95)) / candidates;
  const order = Array.from(confidences, (_, i) => i).sort(
    (a, b) => confidences[b]! - confidences[a]!,
  );
  const n = order.length;
  // All right, fewer than this cannot clear the bound: 1 - level = target^fewest.
  const fewest = Math.ceil(Math.log(1 - level) / Math.log(Math.min(targetPrecision, 1 - 1e-12)));
  const tried = new Set<number>();
  if (fewest <= n) {
    const ratio = candidates > 1 ? (n / fewest) ** (1 / (candidates - 1)) : 1;
    for (let j = 0; j < candidates; j++) tried.add(Math.min(n, Math.round(fewest * ratio ** j)));
  }
  let best: ThresholdChoice = {
    threshold: Number.POSITIVE_INFINITY,
    precision: 1,
    lowerBound: null,
    accepted: 0,
  };
  let hits = 0;
  let pending = false;
  for (let i = 0; i < n; i++) {
    if (correct[order[i]!]) hits++;
    // A candidate count inside a run of equal confidences is tried at the run's end.
    pending ||= tried.has(i + 1);
    const confidence = confidences[order[i]!]!;
    if (!pending || (i + 1 < n && confidences[order[i + 1]!] === confidence)) continue;
    pending = false;
    const lowerBound = clopperPearsonLower(hits, i + 1, level);
    if (lowerBound >= targetPrecision) {
      best = { threshold: confidence, precision: hits / (i + 1), lowerBound, accepted: i + 1 };
    }
  }
  return best;
}

/**
 * One-sided Clopper–Pearson lower bound of a proportion: the p at which seeing `successes` or
 * more in `trials` has probability 1 - `level`, i.e. the `1 - level` quantile of
 * Beta(successes, trials - successes + 1). Exact (no normal approximation), so it is right for
 * the small counts and near-1 proportions auto-accept works with.
 */
export function clopperPearsonLower(successes: number, trials: number, level = 0.95): number {
  if (!(trials > 0) || successes < 0 || successes > trials) {
    throw new RangeError(`need 0 <= successes <= trials and trials > 0 (${successes}/${trials})`);
  }
  if (successes === 0) return 0;
  const alpha = 1 - level;
  const a = successes;
  const b = trials - successes + 1;
  // The CDF rises in p: bisection to well below any precision target's resolution.
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedBeta(mid, a, b) < alpha) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** I_x(a, b), the regularized incomplete beta function (continued fraction, Lentz's method). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x),
  );
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < g + 2; i++) sum += c[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
