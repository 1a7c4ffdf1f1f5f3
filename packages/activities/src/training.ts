import { heartbeat } from '@temporalio/activity';
import { VECTOR_DIMS } from '@beanstalk/db';
import { DEFAULT_HEAD_CONFIG, serializeHead, stackRows, trainHead } from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { encoderOf } from './embedding.ts';
import { surfacing } from './failures.ts';

/** Trains a round's projection head (gpu queue). */
export function createTrainingActivities({ db }: ActivityDeps) {
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
        const { weights, config, report } = await trainHead(
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
          config: { shapes, ...config },
          metrics: {
            trainingLabels: usable.length,
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
