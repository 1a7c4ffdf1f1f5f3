// Confident learning over leave-one-out kNN votes, on clusters whose true classes are known:
// the labels flipped on purpose are the ones found, and clean labels are left alone.
import { describe, expect, it } from 'vitest';
import { normaliseRows } from '../src/exact-knn.ts';
import { findLabelIssues, outOfSampleVotes } from '../src/label-issues.ts';
import { seededRandom } from '../src/random.ts';

const DIMS = 8;
const CLASSES = 4;

/** 60 points per class around orthogonal directions, with a little noise. */
function clusters(seed: number) {
  const random = seededRandom(seed);
  const perClass = 60;
  const values = new Float32Array(CLASSES * perClass * DIMS);
  const truth = new Int32Array(CLASSES * perClass);
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < perClass; i++) {
      const row = c * perClass + i;
      truth[row] = c;
      for (let d = 0; d < DIMS; d++) {
        values[row * DIMS + d] = (d === c * 2 ? 1 : 0) + (random() - 0.5) * 0.4;
      }
    }
  }
  return { vectors: normaliseRows(values, DIMS), truth };
}

describe('label issues', () => {
  it('finds the flipped labels and nothing else', async () => {
    const { vectors, truth } = clusters(1);
    const given = Int32Array.from(truth);
    const flipped = [3, 70, 130, 200, 201];
    for (const i of flipped) given[i] = (truth[i]! + 1) % CLASSES;
    const votes = await outOfSampleVotes(vectors, given, DIMS, 10, CLASSES);
    const issues = findLabelIssues(votes, given, CLASSES);
    expect(issues.map((i) => i.index).sort((a, b) => a - b)).toEqual(flipped);
    for (const issue of issues) {
      expect(issue.suggested).toBe(truth[issue.index]);
      expect(issue.given).toBe(given[issue.index]);
      expect(issue.score).toBeGreaterThan(0);
      expect(issue.selfConfidence).toBeLessThan(0.5);
    }
    // Most suspect first.
    const scores = issues.map((i) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('leaves clean labels alone', async () => {
    const { vectors, truth } = clusters(2);
    const votes = await outOfSampleVotes(vectors, truth, DIMS, 10, CLASSES);
    expect(findLabelIssues(votes, truth, CLASSES)).toEqual([]);
  });

  it('an item never votes for its own label', async () => {
    const { vectors, truth } = clusters(3);
    const given = Int32Array.from(truth);
    given[0] = 2;
    // With k = 1 the nearest row other than itself decides: its cluster's class.
    const votes = await outOfSampleVotes(vectors, given, DIMS, 1, CLASSES);
    expect(votes[0]!.predicted).toBe(truth[0]);
    expect(findLabelIssues(votes, given, CLASSES).map((i) => i.index)).toContain(0);
  });

  it('flags a vote unsure of its label; the strict rule also wants the suggestion sure', () => {
    const v = (p: number[]) => ({
      probabilities: Float64Array.from(p),
      predicted: p.indexOf(Math.max(...p)),
    });
    const votes = [
      ...Array.from({ length: 4 }, () => v([0.9, 0.05, 0.05])),
      ...Array.from({ length: 4 }, () => v([0.05, 0.9, 0.05])),
      v([0.3, 0.4, 0.3]),
    ];
    const given = [0, 0, 0, 0, 1, 1, 1, 1, 0];
    expect(findLabelIssues(votes, given, 3)).toEqual([
      { index: 8, given: 0, suggested: 1, selfConfidence: 0.3, score: 0.7 },
    ]);
    // 0.4 is far below what class 1's items get (0.9).
    expect(findLabelIssues(votes, given, 3, { strict: true })).toEqual([]);
  });
});
