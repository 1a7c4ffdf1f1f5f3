import { describe, expect, it } from 'vitest';
import { inContentOrder, Reservoir, seededRandom, shuffledIndices } from '../src/index.ts';

function sampled(size: number, seed: number, n: number, keepEvery = 0, keptSize = Infinity) {
  const reservoir = new Reservoir<number>(size, seed, keptSize);
  for (let i = 0; i < n; i++) reservoir.offer(i, keepEvery > 0 && i % keepEvery === 0);
  return [...reservoir.items];
}

describe('Reservoir', () => {
  it('holds everything in the order offered while under its size', () => {
    expect(sampled(10, 1, 8, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('past its size keeps every kept item and a seeded sample of the rest', () => {
    const a = sampled(10, 1, 1000, 100);
    const kept = a.filter((i) => i % 100 === 0);
    expect(kept.sort((x, y) => x - y)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(a).toHaveLength(20);
    expect(new Set(a).size).toBe(20);
    expect(sampled(10, 1, 1000, 100)).toEqual(a);
    expect(sampled(10, 2, 1000, 100)).not.toEqual(a);
  });

  it('samples kept items apart, up to their own size, without moving the rest', () => {
    const a = sampled(10, 1, 1000, 100, 4);
    const kept = a.filter((i) => i % 100 === 0);
    expect(kept).toHaveLength(4);
    // The other ten are the ones drawn with every kept item held.
    expect(a.filter((i) => i % 100 !== 0)).toEqual(
      sampled(10, 1, 1000, 100).filter((i) => i % 100 !== 0),
    );
    expect(a).toEqual([...a].sort((x, y) => x - y));
    // Each of the ten kept items stays 4 times in 10, early or late: 800 of 2 000 seeds (sd 22).
    const counts = new Map<number, number>();
    for (let seed = 0; seed < 2000; seed++) {
      for (const i of sampled(10, seed, 1000, 100, 4)) {
        if (i % 100 === 0) counts.set(i, (counts.get(i) ?? 0) + 1);
      }
    }
    expect(counts.size).toBe(10);
    expect(Math.min(...counts.values())).toBeGreaterThan(700);
    expect(Math.max(...counts.values())).toBeLessThan(900);
  });

  it('keeps each item with the same chance, early or late', () => {
    // 2 000 seeds, 10 of 100: each item kept 200 times on average (sd 13.4).
    const counts = new Array<number>(100).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const i of sampled(10, seed, 100)) counts[i]!++;
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(250);
  });
});

describe('inContentOrder', () => {
  it('orders rows by their values alone, whatever order they came in', () => {
    const random = seededRandom(7);
    const rows = Array.from({ length: 500 }, (_, id) => ({
      id,
      vector: Float32Array.from({ length: 8 }, () => random()),
    }));
    // Two copies of the first row's values: they stay next to each other.
    rows.push({ id: 500, vector: rows[0]!.vector.slice() });
    const ordered = inContentOrder(rows).map((r) => Array.from(r.vector));
    for (const seed of [1, 2, 3]) {
      const shuffled = shuffledIndices(rows.length, seededRandom(seed)).map((i) => rows[i]!);
      expect(inContentOrder(shuffled).map((r) => Array.from(r.vector))).toEqual(ordered);
    }
    // Not simply the order of a component: the first values do not come out sorted.
    const firsts = ordered.map((v) => v[0]!);
    expect(firsts).not.toEqual([...firsts].sort((a, b) => a - b));
  });
});
