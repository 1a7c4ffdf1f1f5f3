import { describe, expect, it } from 'vitest';
import {
  HeadProjector,
  initialWeights,
  nearestNeighbours,
  normaliseRows,
  project,
  ReferenceSearch,
  seededRandom,
} from '../src/index.ts';

function randomHead(kind: 'linear' | 'mlp', seed: number) {
  const weights = initialWeights({ kind, inputDims: 32, outputDims: 16, hiddenDims: 24, seed });
  const random = seededRandom(seed + 100);
  // Non-zero biases, so a graph that dropped an Add would show.
  for (const [i, shape] of weights.shapes.entries()) {
    if (shape.length === 1)
      weights.values[i] = Float32Array.from(weights.values[i]!, () => random() - 0.5);
  }
  return weights;
}

describe('projection head on onnxruntime', () => {
  for (const kind of ['linear', 'mlp'] as const) {
    it(`gives the same vectors as the JS head (${kind})`, async () => {
      const weights = randomHead(kind, kind === 'mlp' ? 2 : 1);
      const random = seededRandom(7);
      const n = 500;
      const features = Float32Array.from({ length: n * 32 }, () => random() * 2 - 1);
      const projector = await HeadProjector.create(weights, 1);
      const fast = await projector.project(features, n);
      const reference = project(weights, features, n);
      expect(fast.length).toBe(n * 16);
      let worst = 0;
      for (let i = 0; i < fast.length; i++)
        worst = Math.max(worst, Math.abs(fast[i]! - reference[i]!));
      expect(worst).toBeLessThan(1e-5);
      expect(await projector.project(new Float32Array(0), 0)).toHaveLength(0);
      await projector.release();
    });
  }

  it('refuses features of the wrong width, naming both widths', async () => {
    const projector = await HeadProjector.create(randomHead('mlp', 3));
    await expect(projector.project(new Float32Array(30), 1)).rejects.toThrow(
      /30 dimensions per row; the head takes 32/,
    );
    await projector.release();
  });
});

describe('exact kNN on onnxruntime', () => {
  const unitRows = (n: number, dims: number, seed: number) => {
    const random = seededRandom(seed);
    const rows = Float32Array.from({ length: n * dims }, () => random() * 2 - 1);
    return normaliseRows(rows, dims);
  };

  it('finds the same neighbours at the same distances as the JS search', async () => {
    const refs = unitRows(300, 24, 11);
    const queries = unitRows(400, 24, 12);
    const search = await ReferenceSearch.create(refs, 24, 7, 1);
    const fast = await search.search(queries);
    const reference = nearestNeighbours(refs, queries, 24, 7);
    expect(Array.from(fast.index)).toEqual(Array.from(reference.index));
    let worst = 0;
    for (let i = 0; i < fast.distance.length; i++) {
      worst = Math.max(worst, Math.abs(fast.distance[i]! - reference.distance[i]!));
    }
    expect(worst).toBeLessThan(1e-5);
    await search.release();
  });

  it('caps k at the number of references and refuses ragged queries', async () => {
    const refs = unitRows(3, 8, 13);
    const search = await ReferenceSearch.create(refs, 8, 5);
    expect(search.neighbours).toBe(3);
    const { index } = await search.search(refs);
    expect(Array.from(index.filter((_, i) => i % 3 === 0))).toEqual([0, 1, 2]);
    await expect(search.search(new Float32Array(12))).rejects.toThrow(/not whole rows of 8/);
    const empty = await ReferenceSearch.create(new Float32Array(0), 8, 5);
    expect((await empty.search(refs)).index).toHaveLength(0);
  });
});
