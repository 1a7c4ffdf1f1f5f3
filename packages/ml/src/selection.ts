import { cosineDistance } from './exact-knn.ts';
import { seededRandom, shuffledIndices } from './random.ts';

export const STRATEGIES = [
  'random',
  'least-confidence',
  'margin',
  'entropy',
  'margin-diversity',
  // Typical items of uncovered clusters, from the whole pool (selectTypical in typicality.ts).
  'typiclust',
  // typiclust while the labels are few, margin after (roundStrategy).
  'typiclust-margin',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

/**
 * Labels per class `typiclust-margin` gathers with typiclust before it turns to margin. With few
 * labels the head's uncertainty says little and typical items of uncovered clusters teach more;
 * once every class has some, the least certain items do (Hacohen et al. 2022, "Active learning
 * on a budget"). On Fashion-MNIST typiclust led random by 0.055 at 200 human labels and margin
 * caught up by 500 (docs/benchmarks.md); 15 a class is about 300 human labels there.
 */
export const TYPICAL_LABELS_PER_CLASS = 15;

/**
 * What `typiclust-margin` does in a round, given the pool labels the head trains on and the
 * project's active classes; any other strategy is itself.
 */
export function roundStrategy(
  strategy: Strategy,
  trainingLabels: number,
  classes: number,
): Exclude<Strategy, 'typiclust-margin'> {
  if (strategy !== 'typiclust-margin') return strategy;
  return trainingLabels < TYPICAL_LABELS_PER_CLASS * classes ? 'typiclust' : 'margin';
}

export interface Uncertainty {
  confidence: number;
  margin: number;
  entropy: number;
}

export interface SelectionOptions {
  seed?: number;
  /** Embeddings of the candidates (L2-normalised), needed for margin-diversity. */
  embeddings?: ArrayLike<number>[];
  /** margin-diversity looks at the `poolFactor x budget` most uncertain candidates. */
  poolFactor?: number;
}

/** Higher means more worth a human label. */
function uncertaintyScore(
  strategy: Exclude<Strategy, 'random' | 'typiclust'>,
  u: Uncertainty,
): number {
  if (strategy === 'least-confidence') return 1 - u.confidence;
  if (strategy === 'entropy') return u.entropy;
  return -u.margin;
}

/**
 * k-center greedy: starts from the first candidate (the most uncertain) and repeatedly adds
 * the one farthest from everything chosen, so near-duplicates are not all sent to labelers.
 */
function kCenterGreedy(
  candidates: number[],
  embeddings: ArrayLike<number>[],
  budget: number,
): number[] {
  const chosen = [candidates[0]!];
  const nearest = candidates.map((c) =>
    cosineDistance(embeddings[c]!, embeddings[candidates[0]!]!),
  );
  while (chosen.length < Math.min(budget, candidates.length)) {
    let far = 0;
    for (let i = 1; i < candidates.length; i++) if (nearest[i]! > nearest[far]!) far = i;
    chosen.push(candidates[far]!);
    const e = embeddings[candidates[far]!]!;
    for (let i = 0; i < candidates.length; i++) {
      nearest[i] = Math.min(nearest[i]!, cosineDistance(embeddings[candidates[i]!]!, e));
    }
  }
  return chosen;
}

/**
 * Picks at most `budget` candidate indices for human labeling, most useful first.
 * Ties are broken by index so the choice is reproducible.
 */
export function selectForLabeling(
  uncertainty: Uncertainty[],
  budget: number,
  strategy: Exclude<Strategy, 'typiclust-margin'>,
  options: SelectionOptions = {},
): number[] {
  const take = Math.max(0, Math.min(Math.floor(budget), uncertainty.length));
  if (take === 0) return [];
  if (strategy === 'random') {
    return shuffledIndices(uncertainty.length, seededRandom(options.seed ?? 0)).slice(0, take);
  }
  if (strategy === 'typiclust') {
    throw new RangeError(
      'typiclust chooses from the whole pool, not from candidates: selectTypical',
    );
  }
  const scoreStrategy = strategy === 'margin-diversity' ? 'margin' : strategy;
  const ranked = uncertainty
    .map((u, i) => ({ i, score: uncertaintyScore(scoreStrategy, u) }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((r) => r.i);
  if (strategy !== 'margin-diversity') return ranked.slice(0, take);
  if (!options.embeddings || options.embeddings.length !== uncertainty.length) {
    throw new RangeError('margin-diversity needs one embedding per candidate');
  }
  const pool = ranked.slice(0, Math.max(take, Math.round(take * (options.poolFactor ?? 5))));
  return kCenterGreedy(pool, options.embeddings, take);
}
