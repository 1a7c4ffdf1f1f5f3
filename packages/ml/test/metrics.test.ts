import { describe, expect, it } from 'vitest';
import { auroc, classificationReport, precisionRecallCurve } from '../src/index.ts';

describe('classification metrics', () => {
  it('agree with values computed by hand', () => {
    // truth:     0 0 0 1 1 2
    // predicted: 0 0 1 1 2 2
    const report = classificationReport([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    expect(report.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    // class 0: P 2/2, R 2/3 -> F1 0.8; class 1: P 1/2, R 1/2 -> 0.5; class 2: P 1/2, R 1 -> 2/3
    expect(report.perClass.map((m) => m.f1)).toEqual([0.8, 0.5, expect.closeTo(2 / 3, 12)]);
    expect(report.perClass.map((m) => m.support)).toEqual([3, 2, 1]);
    expect(report.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(report.accuracy).toBeCloseTo(4 / 6, 12);
    expect(report.microF1).toBeCloseTo(4 / 6, 12);
  });

  it('counts a class never predicted as F1 0, not NaN', () => {
    const report = classificationReport([0, 1], [0, 0], 2);
    expect(report.perClass[1]).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('computes AUROC with ties and the PR curve by hand', () => {
    const scores = [0.9, 0.8, 0.8, 0.3, 0.1];
    const positive = [true, false, true, false, false];
    // Pairs (pos, neg): 0.9 beats all 3; 0.8 ties one 0.8 (0.5) and beats 0.3, 0.1 -> 2.5. (3+2.5)/6
    expect(auroc(scores, positive)).toBeCloseTo(5.5 / 6, 12);
    expect(auroc([1, 2, 3], [false, false, false])).toBeNaN();
    expect(precisionRecallCurve(scores, positive)).toEqual([
      { threshold: 0.9, precision: 1, recall: 0.5, accepted: 1 },
      { threshold: 0.8, precision: 2 / 3, recall: 1, accepted: 3 },
      { threshold: 0.3, precision: 0.5, recall: 1, accepted: 4 },
      { threshold: 0.1, precision: 0.4, recall: 1, accepted: 5 },
    ]);
  });
});
