import {
  evalSampleSize,
  minEvalLabels,
  selectForLabeling,
  selectTypical,
  stackRows,
  type Strategy,
} from '@beanstalk/ml';
import type { Database, LabeledVectorRow } from '@beanstalk/db';
import type { ActivityDeps } from './deps.ts';
import { encoderOf } from './embedding.ts';
import { surfacing } from './failures.ts';

/** Rows of backbone features read per query when a strategy needs the whole pool. */
const FEATURE_PAGE = 10_000;

/** Chooses what people are asked to label. */
export function createSelectionActivities({ db }: ActivityDeps) {
  return {
    /**
     * Opens up to `count` tasks, never more than the budget left: with a head, the least
     * certain predictions chosen by `strategy` (seeded by the round number); without one (cold
     * start), or for `random`, a sample keyed by image content and round number; `typiclust`
     * ranks the whole pool by typicality in backbone space, head or not. Until the project has
     * its target of labeled eval items, part of the round is a random sample of eval items
     * (evalSampleSize). A retry returns what the round already opened.
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
        const needed = minEvalLabels(classes.filter((c) => !c.retiredAt).length);
        const seed = (input.seed ?? 0) * 1000 + round.number;
        const evalSample = (take: number, have: number) =>
          evalSampleSize({ take, have, needed, target: project.evalLabelTarget });
        return db.tasks.openForRound({
          roundId: round.id,
          headVersionId: input.headVersionId,
          count: input.count,
          seed: input.seed,
          evalSample,
          // As many clusters as pool tasks: the round's share left after the eval sample.
          ranked:
            input.strategy === 'typiclust'
              ? await typicalPool(
                  db,
                  round.projectId,
                  input.count -
                    evalSample(input.count, await db.tasks.evalCovered(round.projectId)),
                  seed,
                )
              : undefined,
          choose:
            input.strategy === 'random' || input.strategy === 'typiclust'
              ? undefined
              : (candidates, take) =>
                  selectForLabeling(candidates, take, input.strategy, {
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
  const rows: LabeledVectorRow[] = [];
  for (let after: string | null = null; ;) {
    const page = await db.features.readPage({
      projectId,
      encoderVersionId,
      after,
      limit: FEATURE_PAGE,
    });
    rows.push(...page.filter((r) => r.split === 'POOL'));
    if (page.length < FEATURE_PAGE) break;
    after = page.at(-1)!.itemId;
  }
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
