import { describe, expect, it } from 'vitest';
import { roundsToTarget } from '../src/lib/forecast.ts';

describe('rounds to the target metric', () => {
  it('extrapolates the last gain per round', () => {
    expect(roundsToTarget([{ macroF1: 0.6 }, { macroF1: 0.7 }], 0.85)).toBe(2);
    expect(roundsToTarget([{ macroF1: 0.6 }, { macroF1: 0.7 }], 0.7)).toBe(0);
  });

  it('says nothing without a target, with one round, or without progress', () => {
    expect(roundsToTarget([{ macroF1: 0.6 }, { macroF1: 0.7 }], null)).toBeNull();
    expect(roundsToTarget([{ macroF1: 0.6 }], 0.9)).toBeNull();
    expect(roundsToTarget([{ macroF1: 0.7 }, { macroF1: 0.69 }], 0.9)).toBeNull();
  });
});
