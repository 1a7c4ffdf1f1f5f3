import { describe, expect, it } from 'vitest';
import { headOrBackbone, identityHead, project, type HeadWeights } from '../src/head.ts';
import { normaliseRows } from '../src/exact-knn.ts';
import { seededRandom } from '../src/random.ts';

const DIMS = 12;

/**
 * Two classes that differ only in the sign of the first dimension (±0.3), with noise of scale
 * 1 in ten more and a constant last one: in the raw space the noise decides the neighbours.
 */
function data(n: number, seed: number) {
  const random = seededRandom(seed);
  const rows = new Float32Array(n * DIMS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    rows[i * DIMS] = labels[i] ? 0.3 : -0.3;
    for (let d = 1; d < DIMS - 1; d++) rows[i * DIMS + d] = (random() - 0.5) * 2;
    rows[i * DIMS + DIMS - 1] = 1;
  }
  return { rows: normaliseRows(rows, DIMS), labels };
}

/** A linear head DIMS -> 2 taking dimension `a` to output 0 and `b` to output 1. */
function picking(a: number | null, b: number): HeadWeights {
  const w = new Float32Array(DIMS * 2);
  if (a !== null) w[a * 2] = 1;
  w[b * 2 + 1] = 1;
  return { kind: 'linear', shapes: [[DIMS, 2], [2]], values: [w, new Float32Array(2)] };
}

describe('head or backbone space', () => {
  it('the identity head keeps normalised features as they are, zero-padded', () => {
    const features = normaliseRows(Float32Array.from([3, 4, 1, 0]), 2);
    const out = project(identityHead(2, 3), features, 2);
    expect(Array.from(out).map((v) => Number(v.toFixed(6)))).toEqual([0.6, 0.8, 0, 1, 0, 0]);
    expect(() => identityHead(4, 3)).toThrow(RangeError);
  });

  it('the held-out labels choose: a head that drops the noise wins, one that collapses loses', () => {
    const train = data(200, 1);
    const held = data(100, 2);
    const common = {
      references: train.rows,
      referenceLabels: train.labels,
      queries: held.rows,
      queryLabels: held.labels,
      dims: DIMS,
      classes: 2,
      k: 5,
    };
    // Keeps the informative first dimension and the constant one, drops the noise.
    const good = headOrBackbone({ ...common, weights: picking(0, DIMS - 1) });
    expect(good.choice).toBe('head');
    expect(good.headMacroF1).toBeGreaterThan(good.backboneMacroF1 + 0.2);
    // Keeps only the constant: every item lands on the same point, every vote a coin toss.
    const collapsed = headOrBackbone({ ...common, weights: picking(null, DIMS - 1) });
    expect(collapsed.choice).toBe('backbone');
    expect(collapsed.backboneMacroF1).toBeGreaterThan(collapsed.headMacroF1);
  });
});
