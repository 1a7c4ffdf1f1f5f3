import { describe, expect, it } from 'vitest';
import { previewAt, type PrPoint } from '../src/lib/threshold.ts';

// Thresholds descending, as the API returns them: lower thresholds accept more, less precisely.
const points: PrPoint[] = [
  { threshold: 0.99, precision: 1, recall: 0.1, count: 120 },
  { threshold: 0.95, precision: 0.99, recall: 0.3, count: 900 },
  { threshold: 0.9, precision: 0.97, recall: 0.5, count: 2500 },
  { threshold: 0.8, precision: 0.93, recall: 0.7, count: 6000 },
];

describe('auto-accept preview', () => {
  it('takes the lowest threshold that still reaches the target', () => {
    expect(previewAt(points, 0.98)?.count).toBe(900);
    expect(previewAt(points, 0.97)?.count).toBe(2500);
    expect(previewAt(points, 0.5)?.threshold).toBe(0.8);
  });

  it('a stricter target never auto-labels more', () => {
    let last = Infinity;
    for (let target = 0.5; target <= 1; target += 0.01) {
      const count = previewAt(points, target)?.count ?? 0;
      expect(count).toBeLessThanOrEqual(last);
      last = count;
    }
  });

  it('says nothing when no threshold reaches the target', () => {
    expect(previewAt(points.slice(1), 0.995)).toBeNull();
    expect(previewAt([], 0.9)).toBeNull();
  });
});
