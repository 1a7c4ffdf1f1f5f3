import type { EncoderVersion as EncoderRow, Project as ProjectRow } from '@beanstalk/db';
import {
  cancelEncoderTraining,
  encoderTrainingStatus,
  startEncoderTraining,
} from '@beanstalk/orchestration';
import { checkEnoughImages, checkFineTuneLabels } from '@beanstalk/model-runtime';
import { AppError } from '@beanstalk/shared';
import type { Context } from '../context.ts';
import type {
  EncoderVersionResolvers,
  MutationResolvers,
  ResolversTypes,
} from '../generated/graphql.ts';
import { iso, projectBySlug } from './access.ts';

const STATUS_DEADLINE_MS = 2000;
const MAX_EPOCHS = 500;

/** The trainer's record in an encoder's sidecar (apps/trainer, `Trainer.sidecar`). */
export interface TrainingRecord {
  objective?: string;
  training?: {
    images?: number;
    lossCurve?: number[];
    epochSeconds?: number[];
    device?: string;
    /** One entry per fine-tuning with labels (apps/trainer, `FineTuner.sidecar`). */
    fineTunes?: unknown[];
  };
}
const record = (e: EncoderRow) => e.sidecar as TrainingRecord;

/** The pretraining objective, and for a fine-tuned encoder how often: "ae + fine-tuned x2". */
export function objectiveOf({ objective, training }: TrainingRecord): string | null {
  const tuned = training?.fineTunes?.length ?? 0;
  if (tuned === 0) return objective ?? null;
  return `${objective ?? 'unknown'} + fine-tuned${tuned > 1 ? ` x${tuned}` : ''}`;
}

export const EncoderVersion: EncoderVersionResolvers = {
  createdAt: (e) => e.createdAt.toISOString(),
  objective: (e) => objectiveOf(record(e)),
  lossCurve: (e) => record(e).training?.lossCurve ?? [],
  trainingImages: (e) => record(e).training?.images ?? null,
  epochSeconds: (e) => record(e).training?.epochSeconds ?? [],
  device: (e) => record(e).training?.device ?? null,
};

/** The training step's heartbeat (apps/trainer, `Trainer.fit` progress). */
interface TrainingHeartbeat {
  epoch?: number;
  step?: number;
  steps?: number;
  loss?: number;
  lossCurve?: number[];
  imagesPerSecond?: number;
  etaSeconds?: number;
  device?: string;
}

/** A project's latest encoder training, for people: the workflow's progress and heartbeat. */
export async function encoderTraining(
  project: ProjectRow,
  ctx: Context,
): Promise<ResolversTypes['EncoderTraining'] | null> {
  const client = await ctx.temporal();
  // Without a worker a query waits; the project page should not.
  const status = await client.withDeadline(Date.now() + STATUS_DEADLINE_MS, () =>
    encoderTrainingStatus(client, project.id),
  );
  if (!status) return null;
  const live =
    status.phase === 'training' &&
    (status.activity?.name === 'pretrainEncoder' || status.activity?.name === 'fineTuneEncoder')
      ? ((status.activity.details ?? {}) as TrainingHeartbeat)
      : null;
  return {
    workflowId: status.workflowId,
    running: status.running,
    phase: status.phase,
    objective: status.objective,
    epochs: status.epochs,
    images: status.images,
    skippedCount: status.skippedCount,
    skipped: status.skipped,
    inputWidth: status.input?.width ?? null,
    inputHeight: status.input?.height ?? null,
    channels: status.input?.channels ?? null,
    lossCurve: live?.lossCurve ?? status.lossCurve,
    epoch: live?.epoch ?? null,
    step: live?.step ?? null,
    steps: live?.steps ?? null,
    loss: live?.loss ?? null,
    imagesPerSecond: live?.imagesPerSecond ?? null,
    etaSeconds: live?.etaSeconds ?? null,
    device: live?.device ?? null,
    attempt: status.activity?.attempt ?? null,
    resumedAfterEpoch: status.resumedAfterEpoch,
    embedded: status.embedding?.embedded ?? status.embedded,
    embedTotal: status.embedding?.total ?? null,
    encoderVersion: status.encoderVersionId
      ? await ctx.db.encoders.byId(status.encoderVersionId)
      : null,
    note: status.note,
    phases: status.phases,
    startedAt: iso(status.startedAt),
    endedAt: iso(status.closedAt),
  };
}

const OBJECTIVES = { SIMCLR: 'simclr', AE: 'ae', DAE: 'dae', FINETUNE: 'finetune' } as const;

export const encoderMutations: Pick<
  MutationResolvers,
  'trainEncoder' | 'cancelEncoderTraining' | 'switchEncoder'
> = {
  async trainEncoder(_parent, args, ctx) {
    const project = await projectBySlug(ctx, args.project, 'manage');
    if (!Number.isInteger(args.epochs) || args.epochs < 1 || args.epochs > MAX_EPOCHS) {
      throw new AppError('BAD_USER_INPUT', `epochs must be a whole number from 1 to ${MAX_EPOCHS}`);
    }
    if (args.maxImages != null && !(Number.isInteger(args.maxImages) && args.maxImages > 0)) {
      throw new AppError('BAD_USER_INPUT', 'maxImages must be a positive whole number');
    }
    if (
      args.inputSize != null &&
      !(Number.isInteger(args.inputSize) && args.inputSize >= 16 && args.inputSize <= 224)
    ) {
      throw new AppError('BAD_USER_INPUT', 'inputSize must be a whole number from 16 to 224');
    }
    // Too few images (or labels, to fine-tune) is refused here, at once; the workflow checks
    // again when it starts.
    checkEnoughImages((await ctx.db.items.poolShapes(project.id)).images, project.slug);
    if (args.objective === 'FINETUNE') {
      checkFineTuneLabels(await ctx.db.labels.forTraining(project.id), project.slug);
    }
    const handle = await startEncoderTraining(
      await ctx.temporal(),
      {
        projectId: project.id,
        objective: OBJECTIVES[args.objective ?? 'SIMCLR'],
        epochs: args.epochs,
        inputSize: args.inputSize ?? null,
        maxImages: args.maxImages ?? undefined,
      },
      ctx.queues,
    );
    return { workflowId: handle.workflowId };
  },
  async cancelEncoderTraining(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    await cancelEncoderTraining(await ctx.temporal(), project.id);
    return true;
  },
  async switchEncoder(_parent, { project: slug, encoderVersionId }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    const mine = await ctx.db.encoders.ofProject(project.id);
    if (!mine.some((e) => e.id === encoderVersionId)) {
      throw new AppError('NOT_FOUND', `encoder ${encoderVersionId} is not one of ${slug}'s`);
    }
    await ctx.db.projects.switchEncoder(project.id, encoderVersionId);
    return ctx.db.projects.get(project.id);
  },
};
