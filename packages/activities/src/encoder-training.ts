import { heartbeat } from '@temporalio/activity';
import type { PixelShape } from '@beanstalk/ml';
import {
  checkEnoughImages,
  checkFineTuneLabels,
  prepareTrainingImages,
  registerTrainedEncoder,
  trainingInput,
  type PreparedImages,
  type TrainedSidecar,
} from '@beanstalk/model-runtime';
import { AppError, isAppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';

export interface TrainingPlan {
  slug: string;
  images: number;
  shape: PixelShape;
  /** Fine-tuning: the project's encoder it starts from (its input shape is the plan's). */
  base?: { encoderVersionId: string; onnxBlobKey: string; sidecar: unknown };
}

/** What the Python training worker's `pretrainEncoder` takes (apps/trainer, worker.py). */
export interface PretrainSpec {
  runId: string;
  project: string;
  imagesBlobKey: string;
  objective: string;
  epochs: number;
  batchSize?: number;
  seed?: number;
  dims?: number;
  widths?: number[];
  depths?: number[];
}

/** What the Python worker's `fineTuneEncoder` takes (apps/trainer, worker.py). */
export interface FineTuneSpec {
  runId: string;
  project: string;
  imagesBlobKey: string;
  labelsBlobKey: string;
  /** The encoder it starts from: its version, ONNX file in the blob store and stored sidecar. */
  baseEncoderVersionId: string;
  encoderBlobKey: string;
  encoderSidecar: unknown;
  epochs: number;
  seed?: number;
}

/** What it returns: the ONNX file in the blob store and its sidecar. */
export interface PretrainResult {
  onnxBlobKey: string;
  sidecar: TrainedSidecar;
  resumedAfterEpoch: number;
  seconds: number;
}

/** The Python worker's activities, as the workflow calls them on the train queue. */
export interface TrainerActivities {
  pretrainEncoder(spec: PretrainSpec): Promise<PretrainResult>;
  fineTuneEncoder(spec: FineTuneSpec): Promise<PretrainResult>;
}

/** The steps of training an encoder that run in TypeScript, around the Python worker's. */
export function createEncoderPlanningActivities({ db }: ActivityDeps) {
  return {
    /**
     * The project's pool and the input shape the encoder will take; too few images refused.
     * Fine-tuning keeps the project's encoder's shape and needs labels of two classes or more.
     */
    planEncoderTraining(input: {
      projectId: string;
      inputSize?: number | null;
      fineTune?: boolean;
    }) {
      return surfacing(async (): Promise<TrainingPlan> => {
        const project = await db.projects.get(input.projectId);
        const shapes = await db.items.poolShapes(project.id);
        checkEnoughImages(shapes.images, project.slug);
        if (input.fineTune) {
          const encoder = project.encoderVersionId
            ? await db.encoders.byId(project.encoderVersionId)
            : null;
          if (!encoder) {
            throw new AppError(
              'BAD_USER_INPUT',
              `project ${project.slug} has no encoder to fine-tune`,
            );
          }
          checkFineTuneLabels(await db.labels.forTraining(project.id), project.slug);
          return {
            slug: project.slug,
            images: shapes.images,
            shape: {
              width: encoder.inputWidth,
              height: encoder.inputHeight,
              channels: encoder.channels,
            },
            base: {
              encoderVersionId: encoder.id,
              onnxBlobKey: encoder.onnxBlobKey,
              sidecar: encoder.sidecar,
            },
          };
        }
        return {
          slug: project.slug,
          images: shapes.images,
          shape: trainingInput(shapes, input.inputSize),
        };
      });
    },

    /**
     * Switches the project to the encoder (db.projects.switchEncoder); while a round runs it
     * answers `waitingFor` instead, for the workflow to try again later.
     */
    switchProjectEncoder(input: { projectId: string; encoderVersionId: string }) {
      return surfacing(async () => {
        try {
          const previous = await db.projects.switchEncoder(input.projectId, input.encoderVersionId);
          return { switched: true, previous, waitingFor: null };
        } catch (error) {
          if (isAppError(error) && error.details.reason === 'ROUND_RUNNING') {
            return { switched: false, previous: null, waitingFor: error.message };
          }
          throw error;
        }
      });
    },
  };
}

/** Decoding the training images and checking the trained model: gpu queue (onnxruntime). */
export function createEncoderModelActivities({ db, blobs }: ActivityDeps) {
  return {
    prepareTrainingImages(input: {
      projectId: string;
      shape: PixelShape;
      maxImages?: number;
      labeled?: boolean;
    }): Promise<PreparedImages> {
      return surfacing(async () => {
        const prepared = await prepareTrainingImages({ db, blobs }, input, (done) =>
          heartbeat({ done }),
        );
        const project = await db.projects.get(input.projectId);
        checkEnoughImages(prepared.count, project.slug);
        return prepared;
      });
    },

    registerTrainedEncoder(input: {
      projectId: string;
      name: string;
      onnxBlobKey: string;
      imagesBlobKey: string;
      sidecar: TrainedSidecar;
    }) {
      return surfacing(() => registerTrainedEncoder({ db, blobs }, input));
    },
  };
}
