import { heartbeat } from '@temporalio/activity';
import { VECTOR_DIMS } from '@beanstalk/db';
import { DEFAULT_HEAD_CONFIG, serializeHead, stackRows, trainHead } from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { encoderOf } from './embedding.ts';
import { surfacing } from './failures.ts';

/**
 * Most pseudo-labels one head trains on (the most confident first): their features are read
 * and copied into the training set, so the bound keeps a million-item pool's round in memory.
 */
export const MAX_PSEUDO_LABELS = 60_000;

/** Trains a round's projection head (gpu queue). */
export function createTrainingActivities({ db, config }: ActivityDeps) {
  /**
   * With BEANSTALK_PSEUDO_LABELS: what the round's scoring predicted (the active head's kNN
   * vote) for the pool items nobody has labeled, as extra training examples.
   */
  async function pseudoLabels(
    round: { id: string; projectId: string },
    encoderVersionId: string,
    indexOf: Map<string, number>,
  ) {
    if (!config.worker.pseudoLabels) return undefined;
    const project = await db.projects.get(round.projectId);
    if (!project.activeHeadVersionId) return undefined;
    const predicted = await db.predictions.unlabeledPoolOfRound(
      round.id,
      project.activeHeadVersionId,
      MAX_PSEUDO_LABELS,
    );
    const features = await db.features.of(
      encoderVersionId,
      predicted.map((p) => p.itemId),
    );
    const usable = predicted.filter((p) => features.has(p.itemId) && indexOf.has(p.labelClassId));
    if (usable.length === 0) return undefined;
    const dims = features.values().next().value!.length;
    return {
      features: stackRows(
        usable.map((p) => features.get(p.itemId)!),
        dims,
      ),
      labels: Int32Array.from(usable, (p) => indexOf.get(p.labelClassId)!),
    };
  }

  return {
    /**
     * Trains the round's projection head on the current human (and imported/gold) labels of
     * pool items, from their stored backbone features. At most one head per round: a retry
     * after the head was stored returns it.
     */
    trainRoundHead(input: { roundId: string; seed?: number }): Promise<string> {
      // Seeded by the round (and the campaign's seed): a retrain gives the same head.
      return surfacing(async () => {
        const done = await db.heads.byRound(input.roundId);
        if (done) return done.id;
        const round = await db.rounds.get(input.roundId);
        const { encoderVersionId } = await encoderOf(db, round.projectId);
        const [{ indexOf }, labels] = await Promise.all([
          db.classes.index(round.projectId),
          db.labels.forTraining(round.projectId),
        ]);
        const features = await db.features.of(
          encoderVersionId,
          labels.map((r) => r.itemId),
        );
        const usable = labels.filter((r) => features.has(r.itemId));
        const classesSeen = new Set(usable.map((r) => r.labelClassId)).size;
        if (classesSeen < 2) {
          throw new AppError(
            'BAD_USER_INPUT',
            `a head needs labels of at least 2 classes; round ${round.number} has ${classesSeen}`,
          );
        }
        const dims = features.values().next().value!.length;
        const extra = await pseudoLabels(round, encoderVersionId, indexOf);
        const {
          weights,
          config: used,
          report,
        } = await trainHead(
          stackRows(
            usable.map((r) => features.get(r.itemId)!),
            dims,
          ),
          Int32Array.from(usable, (r) => indexOf.get(r.labelClassId)!),
          {
            inputDims: dims,
            outputDims: VECTOR_DIMS,
            seed: (input.seed ?? 0) * 1000 + round.number,
          },
          {
            onStep: (step, loss) =>
              heartbeat({ step, loss, maxSteps: DEFAULT_HEAD_CONFIG.maxSteps }),
            extra,
          },
        );
        const { bytes, shapes, kind } = serializeHead(weights);
        const head = await db.heads.create({
          projectId: round.projectId,
          encoderVersionId,
          roundId: input.roundId,
          kind: kind === 'linear' ? 'LINEAR' : 'MLP',
          inputDims: dims,
          outputDims: VECTOR_DIMS,
          weights: new Uint8Array(bytes),
          config: { shapes, ...used },
          metrics: {
            trainingLabels: usable.length,
            pseudoLabels: extra?.labels.length ?? 0,
            steps: report.steps,
            bestStep: report.bestStep,
            validationAccuracy: Number.isFinite(report.validationAccuracy)
              ? report.validationAccuracy
              : null,
            seconds: report.seconds,
          },
        });
        return head.id;
      });
    },
  };
}
