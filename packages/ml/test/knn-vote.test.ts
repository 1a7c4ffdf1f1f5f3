import { describe, expect, it } from 'vitest';
import { anomalyCalibration, anomalyDistance, thresholdForPrecision, vote } from '../src/index.ts';

describe('kNN vote', () => {
  it('weights neighbours by inverse distance', () => {
    const v = vote(
      [
        { classIndex: 0, distance: 0.1 },
        { classIndex: 1, distance: 0.2 },
        { classIndex: 1, distance: 0.2 },
      ],
      3,
      0,
    );
    // weights 10, 5, 5 -> [0.5, 0.5, 0]; ties go to the lower index
    expect(Array.from(v.probabilities)).toEqual([0.5, 0.5, 0]);
    expect(v.predicted).toBe(0);
    expect(v.margin).toBe(0);
    expect(v.entropy).toBeCloseTo(Math.log(2), 12);
  });

  it('is certain when every neighbour agrees, and uniform with no neighbours', () => {
    const sure = vote(
      [
        { classIndex: 2, distance: 0.3 },
        { classIndex: 2, distance: 0.5 },
      ],
      3,
    );
    expect(sure).toMatchObject({ predicted: 2, confidence: 1, margin: 1, entropy: 0 });
    const none = vote([], 4);
    expect(Array.from(none.probabilities)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(() => vote([{ classIndex: 5, distance: 0 }], 3)).toThrow(
      /class index 5 is outside 0..2/,
    );
  });

  it('scores anomalies by distance to normal references, calibrated on held-out normals', () => {
    expect(
      anomalyDistance(
        [
          { classIndex: 0, distance: 0.4 },
          { classIndex: 0, distance: 0.2 },
          { classIndex: 0, distance: 0.9 },
        ],
        2,
      ),
    ).toBeCloseTo(0.3, 12);
    expect(anomalyDistance([])).toBe(2);
    const calibrate = anomalyCalibration([0.1, 0.2, 0.3, 0.4]);
    expect([0.05, 0.2, 0.35, 1].map(calibrate)).toEqual([0, 0.5, 0.75, 1]);
  });
});

describe('precision-target threshold', () => {
  it('achieves at least the target on its own calibration set', () => {
    // Confidence correlates with correctness, with noise: a realistic calibration set.
    let seed = 11;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const confidences: number[] = [];
    const correct: boolean[] = [];
    for (let i = 0; i < 2000; i++) {
      const c = random();
      confidences.push(c);
      correct.push(random() < 0.5 + 0.5 * c);
    }
    for (const target of [0.8, 0.9, 0.95, 0.98]) {
      const choice = thresholdForPrecision(confidences, correct, target);
      const accepted = confidences
        .map((c, i) => [c, correct[i]] as const)
        .filter(([c]) => c >= choice.threshold);
      const precision = accepted.filter(([, ok]) => ok).length / accepted.length;
      expect(choice.accepted).toBe(accepted.length);
      expect(precision).toBeGreaterThanOrEqual(target);
      expect(choice.precision).toBeCloseTo(precision, 12);
    }
  });

  it('accepts nothing when no threshold reaches the target on enough items', () => {
    const choice = thresholdForPrecision([0.9, 0.8, 0.7], [true, false, true], 0.99, 1);
    expect(choice.threshold).toBe(0.9); // the single top item is right
    expect(thresholdForPrecision([0.9, 0.8], [false, false], 0.5)).toEqual({
      threshold: Infinity,
      precision: 1,
      accepted: 0,
    });
  });
});
