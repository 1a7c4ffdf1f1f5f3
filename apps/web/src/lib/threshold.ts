export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
  count: number;
}

/**
 * What auto-accept would do at a precision target, before saving it: the lowest confidence
 * threshold whose held-out precision still reaches the target, and how many pool items it
 * would label. Points come with thresholds descending. Null when no threshold reaches it.
 */
export function previewAt(points: PrPoint[], target: number): PrPoint | null {
  let chosen: PrPoint | null = null;
  for (const p of points) {
    if (p.precision >= target) chosen = p;
  }
  return chosen;
}
