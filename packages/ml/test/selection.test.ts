import { describe, expect, it } from 'vitest';
import { roundStrategy, selectForLabeling, STRATEGIES } from '../src/index.ts';

const u = (confidence: number, margin: number, entropy: number) => ({
  confidence,
  margin,
  entropy,
});

describe('selection strategies', () => {
  const candidates = [u(0.9, 0.8, 0.3), u(0.5, 0.1, 1.0), u(0.6, 0.05, 0.9), u(0.4, 0.3, 1.2)];

  it('typiclust-margin is typiclust until 15 training labels a class, then margin', () => {
    expect(roundStrategy('typiclust-margin', 0, 10)).toBe('typiclust');
    expect(roundStrategy('typiclust-margin', 149, 10)).toBe('typiclust');
    expect(roundStrategy('typiclust-margin', 150, 10)).toBe('margin');
    expect(roundStrategy('typiclust-margin', 149, 9)).toBe('margin');
    expect(roundStrategy('margin-diversity', 0, 10)).toBe('margin-diversity');
    expect(roundStrategy('typiclust', 1000, 10)).toBe('typiclust');
  });

  it('rank by their own uncertainty measure', () => {
    expect(selectForLabeling(candidates, 2, 'least-confidence')).toEqual([3, 1]);
    expect(selectForLabeling(candidates, 2, 'margin')).toEqual([2, 1]);
    expect(selectForLabeling(candidates, 2, 'entropy')).toEqual([3, 1]);
  });

  it('never exceed the budget or the candidates, and random is reproducible', () => {
    const embeddings = candidates.map((_, i) => [Math.cos(i), Math.sin(i)]);
    // typiclust ranks the whole pool (selectTypical), never a list of candidates.
    expect(() => selectForLabeling(candidates, 2, 'typiclust', { embeddings })).toThrow(RangeError);
    const candidateStrategies = STRATEGIES.filter(
      (s) => s !== 'typiclust' && s !== 'typiclust-margin',
    );
    for (const strategy of candidateStrategies) {
      expect(selectForLabeling(candidates, 10, strategy, { embeddings })).toHaveLength(4);
      expect(selectForLabeling(candidates, 2.7, strategy, { embeddings })).toHaveLength(2);
      expect(selectForLabeling(candidates, 0, strategy, { embeddings })).toEqual([]);
    }
    const a = selectForLabeling(candidates, 3, 'random', { seed: 4 });
    expect(selectForLabeling(candidates, 3, 'random', { seed: 4 })).toEqual(a);
    expect(new Set(a).size).toBe(3);
  });

  it('margin-diversity skips near-duplicates that plain margin would all send', () => {
    // Ten near-identical, very uncertain items, and two uncertain ones elsewhere.
    const many = [
      ...Array.from({ length: 10 }, (_, i) => ({
        u: u(0.5, 0.01 + i * 0.001, 1),
        e: [1, 0.001 * i],
      })),
      { u: u(0.5, 0.05, 1), e: [0, 1] },
      { u: u(0.5, 0.06, 1), e: [-1, 0] },
    ];
    const norm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const embeddings = many.map((m) => norm(m.e));
    const plain = selectForLabeling(
      many.map((m) => m.u),
      3,
      'margin',
    );
    expect(plain).toEqual([0, 1, 2]);
    const diverse = selectForLabeling(
      many.map((m) => m.u),
      3,
      'margin-diversity',
      { embeddings },
    );
    expect(diverse[0]).toBe(0); // the most uncertain comes first
    expect(diverse.slice(1).sort()).toEqual([10, 11]);
    expect(() =>
      selectForLabeling(
        many.map((m) => m.u),
        3,
        'margin-diversity',
      ),
    ).toThrow(/needs one embedding/);
  });
});
