/**
 * Rounds until a target macro-F1, at the gain the last two evaluated rounds made: null when
 * there is no target, too little history, or no gain (the curve is flat or falling).
 */
export function roundsToTarget(
  snapshots: { macroF1: number }[],
  target: number | null | undefined,
): number | null {
  if (target == null || snapshots.length === 0) return null;
  const latest = snapshots.at(-1)!.macroF1;
  if (latest >= target) return 0;
  if (snapshots.length < 2) return null;
  const gain = latest - snapshots.at(-2)!.macroF1;
  return gain > 0 ? Math.ceil((target - latest) / gain) : null;
}
