import {
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  GpuActivities,
  OrchestrationActivities,
  TrainerActivities,
} from '@beanstalk/activities';
import {
  encoderTrainingProgress,
  newEncoderTrainingProgress,
  type EncoderTrainingPhase,
  type EncoderTrainingProgress,
  type TrainEncoderInput,
} from './definitions.ts';
import { ingest } from './ingest.ts';

/** The objective that fine-tunes the project's encoder with its labels. */
const FINE_TUNE = 'finetune';
const RETRY = { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 };
/** How often a switch waiting for a running round tries again. */
const ROUND_WAIT = '30 seconds';

/**
 * Trains an encoder for a project and switches the project to it: plan the input shape from
 * the pool images, decode them once with the serving pipeline (gpu queue), pretrain in the
 * Python worker (train queue; heartbeats carry epoch, loss and ETA, and a retry resumes from
 * the last epoch's checkpoint), check the ONNX export in onnxruntime and register it, embed
 * every item with it (the ingest workflow, as a child), then switch the project in one
 * transaction once no round is running. Cancelling at any point leaves the old encoder active.
 *
 * Objective `finetune` starts from the project's encoder instead: the images go with people's
 * pool labels, and the Python worker trains the encoder's last stage on them (a short run, no
 * checkpoints: a retry starts it again); the rest is the same.
 */
export async function trainEncoder(input: TrainEncoderInput): Promise<EncoderTrainingProgress> {
  const db = proxyActivities<OrchestrationActivities>({
    startToCloseTimeout: '2 minutes',
    scheduleToCloseTimeout: '1 hour',
    retry: RETRY,
  });
  const model = proxyActivities<GpuActivities>({
    taskQueue: input.gpuTaskQueue,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    scheduleToCloseTimeout: '6 hours',
    retry: RETRY,
  });
  const trainer = proxyActivities<TrainerActivities>({
    taskQueue: input.trainTaskQueue,
    startToCloseTimeout: '7 days',
    heartbeatTimeout: input.heartbeatTimeoutMs ?? 60_000,
    scheduleToCloseTimeout: '14 days',
    retry: { ...RETRY, maximumAttempts: 20 },
  });
  const progress = newEncoderTrainingProgress(input, 'planning');
  const enter = (phase: EncoderTrainingPhase) => {
    progress.phase = phase;
    progress.phases.push({ phase, startedAt: new Date().toISOString() });
  };
  setHandler(encoderTrainingProgress, () => progress);
  enter('planning');
  try {
    const fineTune = input.objective === FINE_TUNE;
    const plan = await db.planEncoderTraining({
      projectId: input.projectId,
      inputSize: input.inputSize ?? null,
      fineTune,
    });
    progress.input = plan.shape;
    enter('preparing');
    const prepared = await model.prepareTrainingImages({
      projectId: input.projectId,
      shape: plan.shape,
      maxImages: input.maxImages,
      labeled: fineTune,
    });
    progress.images = prepared.count;
    progress.skippedCount = prepared.skippedCount;
    progress.skipped = prepared.skipped;
    enter('training');
    const { workflowId, runId } = workflowInfo();
    const trained =
      fineTune && plan.base
        ? await trainer.fineTuneEncoder({
            runId,
            project: plan.slug,
            imagesBlobKey: prepared.imagesBlobKey,
            labelsBlobKey: prepared.labelsBlobKey!,
            baseEncoderVersionId: plan.base.encoderVersionId,
            encoderBlobKey: plan.base.onnxBlobKey,
            encoderSidecar: plan.base.sidecar,
            epochs: input.epochs,
            seed: input.seed,
          })
        : await trainer.pretrainEncoder({
            // Its checkpoint folder: the same for a retry, new for the project's next training.
            runId,
            project: plan.slug,
            imagesBlobKey: prepared.imagesBlobKey,
            objective: input.objective,
            epochs: input.epochs,
            batchSize: input.batchSize,
            seed: input.seed,
            widths: input.widths,
          });
    progress.lossCurve = (trained.sidecar.training?.lossCurve as number[] | undefined) ?? [];
    progress.resumedAfterEpoch = trained.resumedAfterEpoch;
    enter('registering');
    const registered = await model.registerTrainedEncoder({
      projectId: input.projectId,
      // Unique per run: a retried registration finds its own version.
      name: `${plan.slug}-${input.objective}-${runId.slice(0, 8)}`,
      onnxBlobKey: trained.onnxBlobKey,
      imagesBlobKey: prepared.imagesBlobKey,
      sidecar: trained.sidecar,
    });
    progress.encoderVersionId = registered.encoderVersionId;
    enter('embedding');
    const embedded = await executeChild(ingest, {
      workflowId: `${workflowId}-embed`,
      args: [
        {
          projectId: input.projectId,
          gpuTaskQueue: input.gpuTaskQueue,
          encoderVersionId: registered.encoderVersionId,
        },
      ],
    });
    progress.embedded = embedded.embedded;
    progress.embedFailed = embedded.failedCount;
    if (input.switchProject === false) {
      progress.note = 'trained and embedded; the project was not switched (switchProject: false)';
    } else {
      enter('switching');
      for (;;) {
        const result = await db.switchProjectEncoder({
          projectId: input.projectId,
          encoderVersionId: registered.encoderVersionId,
        });
        if (result.switched) {
          progress.previousEncoderVersionId = result.previous;
          progress.note = 'switched: the next round trains a head on the new features';
          break;
        }
        if (progress.phase !== 'waiting-for-round') enter('waiting-for-round');
        progress.note = result.waitingFor;
        await sleep(ROUND_WAIT);
      }
    }
    enter('completed');
    return progress;
  } catch (error) {
    const cancelled = isCancellation(error);
    // An activity's failure wraps the reason (too few images, a bad export) in its cause.
    const reason = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    progress.note = cancelled ? 'cancelled: the project keeps its encoder' : reason;
    enter(cancelled ? 'cancelled' : 'failed');
    throw error;
  }
}
