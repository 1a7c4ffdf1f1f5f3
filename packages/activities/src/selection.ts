import {
  evalSampleSize,
  inContentOrder,
  minEvalLabels,
  roundStrategy,
  Reservoir,
  selectForLabeling,
  selectTypical,
  stackRows,
  TYPICAL_LABELS_PER_CLASS,
  type Strategy,
} from '@beanstalk/ml';
import type { Database, LabeledVectorRow, SelectionStrategy } from '@beanstalk/db';
import type { ActivityDeps } from './deps.ts';
import { encoderOf } from './embedding.ts';
import { surfacing } from './failures.ts';

/** Rows of backbone features read per query when a strategy needs the whole pool. */
const FEATURE_PAGE = 10_000;

/**
 * Unlabeled pool items typiclust clusters at most (a seeded sample of a larger pool; labeled
 * ones join as coverage, up to TYPICAL_LABELED_SAMPLE): its typicality compares the members of
 * each cluster with one another, so its time grows with the square of the pool, and the sample
 * bounds it and the memory at any pool size (at 1M items, 46–92 s a round on 2 cores:
 * bench:round).
 */
export const TYPICAL_POOL_SAMPLE = 60_000;

/**
 * Labeled pool items typiclust takes as coverage at most (a seeded sample past it): they join the
 * clustering too, so they are bounded as well, for a project that asks by TYPICLUST with many
 * labels (`typiclust-margin` stops using it at 15 labels a class).
 */
export const TYPICAL_LABELED_SAMPLE = 20_000;

/** A project's strategy setting by its name in packages/ml (TYPICLUST_MARGIN: typiclust-margin). */
export const strategyOf = (setting: SelectionStrategy): Strategy =>
  setting.toLowerCase().replaceAll('_', '-') as Strategy;

/** The setting's name of a strategy (typiclust-margin: TYPICLUST_MARGIN), as rounds record it. */
export const settingOf = (strategy: Strategy): SelectionStrategy =>
  strategy.toUpperCase().replaceAll('-', '_') as SelectionStrategy;

/** Chooses what people are asked to label. */
export function createSelectionActivities({ db }: ActivityDeps) {
  return {
    /**
     * Opens up to `count` tasks, never more than the budget left: with a head, the least
     * certain predictions chosen by `strategy` (seeded by the round number); without one (cold
     * start), or for `random`, a sample keyed by image content and round number; `typiclust`
     * ranks the whole pool by typicality in backbone space, head or not; `typiclust-margin` is
     * typiclust while the head trains on few labels, margin after. Until the project has
     * its target of labeled eval items, part of the round is a random sample of eval items
     * (evalSampleSize). The round records how it chose (Round.selection). A retry returns
     * what the round already opened.
     */
    openTasks(input: {
      roundId: string;
      headVersionId: string | null;
      count: number;
      strategy: Strategy;
      seed?: number;
    }): Promise<{ asked: number; evalAsked: number; budgetLeft: number }> {
      return surfacing(async () => {
        const round = await db.rounds.get(input.roundId);
        const [project, classes] = await Promise.all([
          db.projects.get(round.projectId),
          db.classes.ofProject(round.projectId),
        ]);
        const active = classes.filter((c) => !c.retiredAt).length;
        const needed = minEvalLabels(active);
        const seed = (input.seed ?? 0) * 1000 + round.number;
        const strategy =
          input.strategy === 'typiclust-margin'
            ? roundStrategy(
                input.strategy,
                // Counted only as far as the switch: the answer is the same past it.
                await db.labels.countForTraining(
                  round.projectId,
                  TYPICAL_LABELS_PER_CLASS * active,
                ),
                active,
              )
            : input.strategy;
        const evalSample = (take: number, have: number) =>
          evalSampleSize({ take, have, needed, target: project.evalLabelTarget });
        return db.tasks.openForRound({
          roundId: round.id,
          headVersionId: input.headVersionId,
          count: input.count,
          seed: input.seed,
          evalSample,
          strategy: settingOf(strategy),
          // As many clusters as pool tasks: the round's share left after the eval sample.
          ranked:
            strategy === 'typiclust'
              ? await typicalPool(
                  db,
                  round.projectId,
                  input.count -
                    evalSample(input.count, await db.tasks.evalCovered(round.projectId)),
                  seed,
                )
              : undefined,
          choose:
            strategy === 'random' || strategy === 'typiclust'
              ? undefined
              : (candidates, take) =>
                  selectForLabeling(candidates, take, strategy, {
                    seed,
                    embeddings: candidates.map((c) => c.embedding),
                  }).map((i) => candidates[i]!.itemId),
        });
      });
    },
  };
}

/** Pool items ranked by TypiClust over their backbone features, labeled ones as coverage. */
async function typicalPool(
  db: Database,
  projectId: string,
  count: number,
  seed: number,
): Promise<string[]> {
  const { encoderVersionId } = await encoderOf(db, projectId);
  // Seeded samples past TYPICAL_POOL_SAMPLE unlabeled and TYPICAL_LABELED_SAMPLE labeled rows.
  const sample = new Reservoir<LabeledVectorRow>(TYPICAL_POOL_SAMPLE, seed, TYPICAL_LABELED_SAMPLE);
  for (let after: string | null = null; ;) {
    const page = await db.features.readPage({
      projectId,
      encoderVersionId,
      after,
      limit: FEATURE_PAGE,
    });
    for (const row of page) {
      if (row.split === 'POOL') sample.offer(row, row.labelClassId !== null);
    }
    if (page.length < FEATURE_PAGE) break;
    after = page.at(-1)!.itemId;
  }
  // Clustered in an order the features set: item ids are random, and in id order the same
  // images in two projects (or a test's fresh database) were clustered, and chosen, differently.
  const rows = inContentOrder(sample.items);
  if (rows.length === 0) return [];
  const dims = rows[0]!.vector.length;
  const picked = selectTypical(
    stackRows(
      rows.map((r) => r.vector),
      dims,
    ),
    dims,
    rows.map((r) => r.labelClassId !== null),
    count,
    seed,
  );
  return picked.map((i) => rows[i]!.itemId);
}
