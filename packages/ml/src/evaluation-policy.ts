/**
 * How much labeled eval data the platform wants, and how a round gets it. Evaluation reads
 * only labels people gave (or imported) on eval items, which heads never train on; a project
 * without them gets them the way a team would: each round spends part of its tasks on a
 * random sample of eval items, counted in the budget, until the project's target is reached.
 */

/** Labeled eval items per class from which a macro-F1 is worth reporting at all. */
export const EVAL_LABELS_PER_CLASS = 5;

/** Below this many labeled eval items a project's heads are not evaluated (never on one). */
export function minEvalLabels(classCount: number): number {
  return EVAL_LABELS_PER_CLASS * Math.max(2, classCount);
}

/**
 * Of a round's `take` tasks, how many go to random eval items: up to half the round while
 * evaluation lacks its minimum (so the second round can already compare heads), then up to
 * a quarter until `target`, none after. `have` counts labeled eval items and eval tasks
 * still open. The rest of the round goes to the pool, where labels train the head.
 */
export function evalSampleSize(input: {
  take: number;
  have: number;
  needed: number;
  target: number;
}): number {
  const { take, have, needed, target } = input;
  if (take <= 0 || have >= target) return 0;
  const share = have < needed ? 0.5 : 0.25;
  return Math.max(0, Math.min(target - have, Math.floor(take * share)));
}
