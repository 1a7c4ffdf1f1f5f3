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
] as const;
export type Strategy = (typeof STRATEGIES)[number];

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
  strategy: Strategy,
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
