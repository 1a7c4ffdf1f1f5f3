import { heartbeat } from '@temporalio/activity';
import { VECTOR_DIMS } from '@beanstalk/db';
import {
  DEFAULT_HEAD_CONFIG,
  headOrBackbone,
  identityHead,
  minEvalLabels,
  serializeHead,
  stackRows,
  trainHead,
  type HeadWeights,
} from '@beanstalk/ml';
import type { Database } from '@beanstalk/db';
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
        const space = await chooseSpace(db, {
          projectId: round.projectId,
          encoderVersionId,
          weights,
          training: usable.map((r) => ({
            features: features.get(r.itemId)!,
            classIndex: indexOf.get(r.labelClassId)!,
          })),
          classes: indexOf.size,
          dims,
        });
        const { bytes, shapes, kind } = serializeHead(space.weights);
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
            space: space.choice,
            spaceCheck: space.check,
          },
        });
        return head.id;
      });
    },
  };
}

/**
 * The round's head, or the identity (backbone space) when the eval items labeled by people
 * vote better there: with few labels a trained head can lose to the features it starts from.
 * Without enough labeled eval items (minEvalLabels) the trained head stands.
 */
async function chooseSpace(
  db: Database,
  input: {
    projectId: string;
    encoderVersionId: string;
    weights: HeadWeights;
    training: { features: Float32Array; classIndex: number }[];
    classes: number;
    dims: number;
  },
): Promise<{
  weights: HeadWeights;
  choice: 'head' | 'backbone';
  check: { headMacroF1: number; backboneMacroF1: number; evalLabels: number } | null;
}> {
  const { weights, dims } = input;
  const [project, classes, labels] = await Promise.all([
    db.projects.get(input.projectId),
    db.classes.ofProject(input.projectId),
    db.labels.forEvaluation(input.projectId),
  ]);
  const indexOf = new Map(classes.map((c, i) => [c.id, i]));
  const features = await db.features.of(
    input.encoderVersionId,
    labels.map((l) => l.itemId),
  );
  const held = labels.filter((l) => features.has(l.itemId));
  const needed = minEvalLabels(classes.filter((c) => !c.retiredAt).length);
  if (held.length < needed || dims > VECTOR_DIMS) {
    return { weights, choice: 'head', check: null };
  }
  const result = headOrBackbone({
    weights,
    references: stackRows(
      input.training.map((t) => t.features),
      dims,
    ),
    referenceLabels: Int32Array.from(input.training, (t) => t.classIndex),
    queries: stackRows(
      held.map((l) => features.get(l.itemId)!),
      dims,
    ),
    queryLabels: Int32Array.from(held, (l) => indexOf.get(l.labelClassId)!),
    dims,
    classes: input.classes,
    k: project.k,
  });
  return {
    weights: result.choice === 'backbone' ? identityHead(dims, VECTOR_DIMS) : weights,
    choice: result.choice,
    check: {
      headMacroF1: result.headMacroF1,
      backboneMacroF1: result.backboneMacroF1,
      evalLabels: held.length,
    },
  };
}
