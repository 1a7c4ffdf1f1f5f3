// Near-duplicates among random directions with slightly disturbed copies appended: the copies,
// and only they, pair up with their originals and form one group each.
import { describe, expect, it } from 'vitest';
import { normaliseRows } from '../src/exact-knn.ts';
import { queryPageRows } from '../src/knn-onnx.ts';
import { nearDuplicateGroups, nearDuplicatePairs } from '../src/near-duplicates.ts';
import { seededRandom } from '../src/random.ts';

const DIMS = 16;

function withCopies(seed: number, originals: number, copiesOf: number[], jitter: number) {
  const random = seededRandom(seed);
  const rows = originals + copiesOf.length;
  const values = new Float32Array(rows * DIMS);
  for (let i = 0; i < originals * DIMS; i++) values[i] = random() * 2 - 1;
  copiesOf.forEach((source, n) => {
    for (let d = 0; d < DIMS; d++) {
      values[(originals + n) * DIMS + d] = values[source * DIMS + d]! + (random() * 2 - 1) * jitter;
    }
  });
  return normaliseRows(values, DIMS);
}

describe('near-duplicates', () => {
  it('pairs each copy with its original, once, and groups copies of one image together', async () => {
    const vectors = withCopies(1, 60, [3, 7, 7], 0.01);
    const pairs = await nearDuplicatePairs(vectors, DIMS, 0.001);
    expect(pairs.map((p) => [p.index, p.of])).toEqual([
      [60, 3],
      [61, 7],
      [62, 7],
      [62, 61],
    ]);
    for (const p of pairs) expect(p.distance).toBeLessThanOrEqual(0.001);
    expect(nearDuplicateGroups(pairs)).toEqual([
      [3, 60],
      [7, 61, 62],
    ]);
  });

  it('finds nothing among distinct images, and the threshold decides', async () => {
    const vectors = withCopies(2, 60, [5], 0.2);
    expect(await nearDuplicatePairs(vectors, DIMS, 0.001)).toEqual([]);
    const loose = await nearDuplicatePairs(vectors, DIMS, 0.1);
    expect(loose.map((p) => [p.index, p.of])).toContainEqual([60, 5]);
  });

  it('searches only the rows asked for, against all', async () => {
    const vectors = withCopies(3, 60, [3, 7, 7], 0.01);
    const pairs = await nearDuplicatePairs(vectors, DIMS, 0.001, 5, undefined, [61]);
    expect(pairs.map((p) => [p.index, p.of])).toEqual([
      [61, 7],
      [62, 61],
    ]);
  });

  it('joins chains into one group rooted at the earliest row', () => {
    expect(
      nearDuplicateGroups([
        { index: 9, of: 4, distance: 0 },
        { index: 4, of: 2, distance: 0 },
        { index: 8, of: 1, distance: 0 },
        { index: 9, of: 8, distance: 0 },
      ]),
    ).toEqual([[1, 2, 4, 8, 9]]);
  });

  it('pages queries so a search against many rows holds at most 16M similarities', () => {
    expect(queryPageRows(1000)).toBe(1024);
    expect(queryPageRows(200_000)).toBe(83);
    expect(queryPageRows(100_000_000)).toBe(1);
  });
});
