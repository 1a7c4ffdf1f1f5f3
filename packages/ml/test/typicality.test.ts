import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.ts';
import { kMeans, selectTypical } from '../src/typicality.ts';

/** Three well-apart 2-D blobs of 60, 40 and 20 points, each with one point at its centre. */
function blobs() {
  const random = seededRandom(3);
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
  ];
  const sizes = [60, 40, 20];
  const rows: number[] = [];
  const blobOf: number[] = [];
  const centreRow: number[] = [];
  centres.forEach(([x, y], b) => {
    centreRow.push(blobOf.length);
    rows.push(x!, y!);
    blobOf.push(b);
    for (let i = 1; i < sizes[b]!; i++) {
      rows.push(x! + (random() - 0.5) * 2, y! + (random() - 0.5) * 2);
      blobOf.push(b);
    }
  });
  return { rows: Float32Array.from(rows), blobOf, centreRow };
}

describe('typicality-based selection (TypiClust)', () => {
  it('k-means finds well-separated clusters whatever the seed', () => {
    const { rows, blobOf } = blobs();
    for (const seed of [0, 1, 2]) {
      const assignment = kMeans(rows, 2, 3, seed);
      // Same blob, same cluster; different blobs, different clusters.
      const clusterOfBlob = [0, 1, 2].map((b) => assignment[blobOf.indexOf(b)]);
      expect(new Set(clusterOfBlob).size).toBe(3);
      blobOf.forEach((b, i) => expect(assignment[i]).toBe(clusterOfBlob[b]));
    }
  });

  it('asks for the densest point of each uncovered cluster, larger clusters first', () => {
    const { rows, blobOf, centreRow } = blobs();
    // One label in the largest blob: the other two are asked, the larger one first.
    const labeled = blobOf.map((_, i) => i === 5);
    const chosen = selectTypical(rows, 2, labeled, 2, 0);
    expect(chosen.map((i) => blobOf[i])).toEqual([1, 2]);
    // The most typical point is the one among its blob's densest: near the centre.
    for (const i of chosen) {
      const centre = centreRow[blobOf[i]!]!;
      const distance = Math.hypot(
        rows[2 * i]! - rows[2 * centre]!,
        rows[2 * i + 1]! - rows[2 * centre + 1]!,
      );
      expect(distance).toBeLessThan(0.5);
    }
  });

  it('never asks for a labeled row, and asks again in covered clusters when it must', () => {
    const { rows, blobOf } = blobs();
    const labeled = blobOf.map(() => false);
    const chosen = selectTypical(rows, 2, labeled, 5, 0);
    expect(new Set(chosen).size).toBe(5);
    const allButOne = blobOf.map((_, i) => i !== 7);
    expect(selectTypical(rows, 2, allButOne, 3, 0)).toEqual([7]);
  });
});
