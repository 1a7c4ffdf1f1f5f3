// Which given labels look wrong, from out-of-sample kNN votes with per-class thresholds as in
// confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in
// Dataset Labels", JAIR 2021). Each labeled item is voted on by the other labeled items only, so
// its own label cannot vouch for itself; a label is suspect when the vote says another class and
// is less sure of the given one than it usually is about items given that class.
import { queryPageRows, ReferenceSearch } from './knn-onnx.ts';
import { vote, type Vote } from './scoring.ts';

/**
 * Neighbours a label is voted on by: bench:data-quality found 20 clearly better than 10 at
 * ranking injected errors first (the project's k serves classification, not this).
 */
export const LABEL_CHECK_K = 20;

export interface LabelIssue {
  /** Row of the item among the labeled items given. */
  index: number;
  given: number;
  /** The class the vote gives it. */
  suggested: number;
  /** The vote's probability of the given class (low: suspect). */
  selfConfidence: number;
  /** 1 - selfConfidence: how much the neighbours doubt the label; issues are ranked by it. */
  score: number;
}

/**
 * Leave-one-out votes: each labeled row voted on by its k nearest other labeled rows (cosine,
 * L2-normalised rows), by onnxruntime's exact search in pages, so thousands of labels take
 * seconds and the event loop keeps turning (`onPage` reports progress). The row itself is left
 * out by position, so an exact duplicate with another label still votes.
 */
export async function outOfSampleVotes(
  vectors: Float32Array,
  labels: ArrayLike<number>,
  dims: number,
  k: number,
  classes: number,
  onPage?: (done: number, total: number) => void,
): Promise<Vote[]> {
  const rows = vectors.length / dims;
  const search = await ReferenceSearch.create(vectors, dims, k + 1);
  const votes: Vote[] = [];
  try {
    const size = queryPageRows(rows);
    for (let start = 0; start < rows; start += size) {
      const end = Math.min(rows, start + size);
      const { index, distance } = await search.search(vectors.subarray(start * dims, end * dims));
      const kk = index.length / (end - start);
      for (let r = start; r < end; r++) {
        const at = (r - start) * kk;
        const neighbours = [];
        for (let j = 0; j < kk && neighbours.length < k; j++) {
          const other = index[at + j]!;
          if (other === r) continue;
          neighbours.push({ classIndex: labels[other]!, distance: distance[at + j]! });
        }
        votes.push(vote(neighbours, classes));
      }
      onPage?.(end, rows);
    }
  } finally {
    await search.release();
  }
  return votes;
}

/**
 * Label issues, most suspect first. A label is an issue when its out-of-sample vote picks
 * another class and gives the given class less than items of that class usually get (the mean
 * probability of j among items given j: confident learning's per-class threshold t_j, so a
 * class the vote is always unsure about is not flagged wholesale). The suggestion is the vote's
 * class; issues are ranked by self-confidence, lowest first. `strict` is confident learning's
 * own rule (the suggestion must also reach its class's t_j): bench:data-quality measured both,
 * and the strict rule never flags about a quarter of the injected errors.
 */
export function findLabelIssues(
  votes: readonly Pick<Vote, 'probabilities' | 'predicted'>[],
  given: ArrayLike<number>,
  classes: number,
  { strict = false }: { strict?: boolean } = {},
): LabelIssue[] {
  const sum = new Float64Array(classes);
  const count = new Float64Array(classes);
  votes.forEach((v, i) => {
    sum[given[i]!]! += v.probabilities[given[i]!]!;
    count[given[i]!]! += 1;
  });
  const issues: LabelIssue[] = [];
  votes.forEach((v, i) => {
    const own = given[i]!;
    const selfConfidence = v.probabilities[own]!;
    if (v.predicted === own || selfConfidence >= sum[own]! / count[own]!) return;
    const suggested = v.predicted;
    // A class nobody was given has no threshold: under the strict rule it is never suggested.
    if (
      strict &&
      !(count[suggested]! > 0 && v.probabilities[suggested]! >= sum[suggested]! / count[suggested]!)
    ) {
      return;
    }
    issues.push({
      index: i,
      given: own,
      suggested,
      selfConfidence,
      score: 1 - selfConfidence,
    });
  });
  return issues.sort((a, b) => a.selfConfidence - b.selfConfidence || a.index - b.index);
}
