import { describe, expect, it } from 'vitest';
import { evalSampleSize, minEvalLabels } from '../src/evaluation-policy.ts';

describe('how much of a round goes to the eval sample', () => {
  it('wants 5 labeled eval items per class before evaluating, never fewer than for two classes', () => {
    expect(minEvalLabels(10)).toBe(50);
    expect(minEvalLabels(3)).toBe(15);
    expect(minEvalLabels(1)).toBe(10);
  });

  it('half the round below the minimum, a quarter up to the target, nothing after', () => {
    const plan = (take: number, have: number) =>
      evalSampleSize({ take, have, needed: 50, target: 200 });
    expect(plan(100, 0)).toBe(50);
    expect(plan(100, 49)).toBe(50);
    expect(plan(100, 50)).toBe(25);
    expect(plan(100, 190)).toBe(10);
    expect(plan(100, 200)).toBe(0);
    expect(plan(100, 250)).toBe(0);
    // The pool always gets at least half: a one-task round asks the pool.
    expect(plan(1, 0)).toBe(0);
    expect(plan(5, 0)).toBe(2);
    expect(plan(0, 0)).toBe(0);
  });

  it('asks nothing when the project wants no eval sample', () => {
    expect(evalSampleSize({ take: 100, have: 0, needed: 50, target: 0 })).toBe(0);
  });
});
