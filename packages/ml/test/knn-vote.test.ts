import { describe, expect, it } from 'vitest';
import {
  anomalyCalibration,
  anomalyDistance,
  clopperPearsonLower,
  normaliseRows,
  Scorer,
  seededRandom,
  thresholdForPrecision,
  vote,
} from '../src/index.ts';

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

describe('Scorer', () => {
  it('answers a k above its usual one as a scorer built for that k does, and refuses past maxK', async () => {
    const random = seededRandom(3);
    const dims = 8;
    const rows = 300;
    const references = {
      vectors: normaliseRows(
        Float32Array.from({ length: rows * dims }, () => random() - 0.5),
        dims,
      ),
      dims,
      labels: Int32Array.from({ length: rows }, (_, i) => i % 4),
      normal: [true, true, true, false],
    };
    const queries = normaliseRows(
      Float32Array.from({ length: 5 * dims }, () => random() - 0.5),
      dims,
    );
    const usual = await Scorer.create(references, { k: 5, maxK: 40 });
    const wide = await Scorer.create(references, { k: 40 });
    try {
      for (const k of [3, 5, 6, 40]) {
        const [a, b] = await Promise.all([usual.score(queries, k), wide.score(queries, k)]);
        expect(a.map((s) => s.neighbours.length)).toEqual(Array(5).fill(k));
        expect(a.map((s) => s.neighbours.map((n) => n.index))).toEqual(
          b.map((s) => s.neighbours.map((n) => n.index)),
        );
        expect(a.map((s) => s.vote.predicted)).toEqual(b.map((s) => s.vote.predicted));
        expect((await usual.votes(queries, k)).map((v) => v.confidence)).toEqual(
          b.map((s) => s.vote.confidence),
        );
      }
      await expect(usual.score(queries, 41)).rejects.toThrow(/k must be 1..40/);
    } finally {
      await Promise.all([usual.release(), wide.release()]);
    }
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
    // 98% cannot be shown from these 2000: the best region is right about 97.6% of the time.
    expect(thresholdForPrecision(confidences, correct, 0.98).threshold).toBe(Infinity);
    for (const target of [0.8, 0.9]) {
      const choice = thresholdForPrecision(confidences, correct, target);
      const accepted = confidences
        .map((c, i) => [c, correct[i]] as const)
        .filter(([c]) => c >= choice.threshold);
      const precision = accepted.filter(([, ok]) => ok).length / accepted.length;
      expect(choice.accepted).toBe(accepted.length);
      expect(precision).toBeGreaterThanOrEqual(target);
      expect(choice.precision).toBeCloseTo(precision, 12);
      expect(choice.lowerBound).toBeGreaterThanOrEqual(target);
    }
  });

  it('keeps its promise on new data: the true precision above the threshold meets the target in at least 95% of draws', () => {
    // A calibration set of 2000 votes, confidence c uniform, right with probability
    // 0.5 + 0.5c: above a threshold t the true precision is exactly 0.75 + 0.25 t. 200 draws.
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const target = 0.9;
    let chosen = 0;
    let kept = 0;
    for (let draw = 0; draw < 200; draw++) {
      const confidences = Array.from({ length: 2000 }, random);
      const correct = confidences.map((c) => random() < 0.5 + 0.5 * c);
      const { threshold } = thresholdForPrecision(confidences, correct, target);
      if (!Number.isFinite(threshold)) continue;
      chosen++;
      if (0.75 + 0.25 * threshold >= target) kept++;
    }
    expect(chosen).toBeGreaterThan(150);
    expect(kept / chosen).toBeGreaterThanOrEqual(0.95);
  });

  it('the simpler rules it replaces do not keep that promise (same draws for all three)', () => {
    // The old rule: the lowest threshold whose point estimate meets the target on >= 20 items.
    const pointEstimate = (c: number[], ok: boolean[], target: number) => {
      const order = c.map((_, i) => i).sort((a, b) => c[b]! - c[a]!);
      let best = Infinity;
      let hits = 0;
      order.forEach((j, i) => {
        if (ok[j]) hits++;
        if (i + 1 >= 20 && hits / (i + 1) >= target) best = c[j]!;
      });
      return best;
    };
    // A 95% bound at every threshold, the lowest that passes taken: no correction.
    const everyThreshold = (c: number[], ok: boolean[], target: number) => {
      const order = c.map((_, i) => i).sort((a, b) => c[b]! - c[a]!);
      let best = Infinity;
      let hits = 0;
      order.forEach((j, i) => {
        if (ok[j]) hits++;
        if (clopperPearsonLower(hits, i + 1) >= target) best = c[j]!;
      });
      return best;
    };
    const rules = {
      chosen: (c: number[], ok: boolean[], t: number) => thresholdForPrecision(c, ok, t).threshold,
      pointEstimate,
      everyThreshold,
    };
    const coverage = (size: number, draws: number) => {
      let seed = 7;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const tally = Object.fromEntries(Object.keys(rules).map((k) => [k, { chose: 0, kept: 0 }]));
      for (let draw = 0; draw < draws; draw++) {
        const c = Array.from({ length: size }, random);
        const ok = c.map((x) => random() < 0.5 + 0.5 * x);
        for (const [name, rule] of Object.entries(rules)) {
          const t = rule(c, ok, 0.9);
          if (!Number.isFinite(t)) continue;
          tally[name]!.chose++;
          if (0.75 + 0.25 * t >= 0.9) tally[name]!.kept++;
        }
      }
      const share = (name: string) => tally[name]!.kept / tally[name]!.chose;
      console.log(
        `${size} items, ${draws} draws, target 0.9: ` +
          Object.entries(tally)
            .map(([name, t]) => `${name} ${t.kept}/${t.chose}`)
            .join(', '),
      );
      return share;
    };
    const large = coverage(2000, 200);
    expect(large('chosen')).toBeGreaterThanOrEqual(0.95);
    expect(large('pointEstimate')).toBeLessThan(0.7);
    const small = coverage(300, 400);
    expect(small('everyThreshold')).toBeLessThan(0.95);
    expect(small('chosen')).toBeGreaterThanOrEqual(0.95);
  });

  it('asks for more evidence the fewer items it has: the lower bound, not the estimate, meets the target', () => {
    // Thirty right answers are not evidence of 90% precision at the level each of the 16
    // candidates is tried at (1 - 0.05/16: 0.003125^(1/30) = 0.82).
    const thirty = Array.from({ length: 30 }, (_, i) => 0.99 - i * 0.001);
    expect(thresholdForPrecision(thirty, Array(30).fill(true), 0.9)).toEqual({
      threshold: Infinity,
      precision: 1,
      lowerBound: null,
      accepted: 0,
    });
    // Sixty are (0.003125^(1/60) = 0.908; the fewest that could pass is 55); twenty wrong
    // ones below them are left out.
    const confidences = [
      ...Array.from({ length: 60 }, (_, i) => 0.99 - i * 0.001),
      ...Array(20).fill(0.5),
    ];
    const correct = [...Array(60).fill(true), ...Array(20).fill(false)];
    const choice = thresholdForPrecision(confidences, correct, 0.9);
    expect(choice.accepted).toBeGreaterThanOrEqual(55);
    expect(choice.accepted).toBeLessThanOrEqual(60);
    expect(choice.precision).toBe(1);
    expect(choice.lowerBound).toBeGreaterThanOrEqual(0.9);
  });

  it('computes exact Clopper–Pearson lower bounds (checked against mpmath)', () => {
    // One-sided 95%, from mpmath's regularized incomplete beta, 40 digits, bisected.
    for (const [k, n, expected] of [
      [20, 20, 0.8608916593],
      [19, 20, 0.7838938358],
      [98, 100, 0.9383807996],
      [490, 500, 0.9663117277],
      [5, 10, 0.222441101],
      [1, 1, 0.05],
      [2000, 2040, 0.9745515077],
    ] as const) {
      expect(clopperPearsonLower(k, n)).toBeCloseTo(expected, 8);
    }
    expect(clopperPearsonLower(0, 10)).toBe(0);
    expect(() => clopperPearsonLower(3, 2)).toThrow(RangeError);
  });
});
