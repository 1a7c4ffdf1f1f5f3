import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Strategy } from '@beanstalk/ml';

/** The API sends this after storing a label for one of the round's tasks (task id). */
export const labelSubmitted = defineSignal<[string]>('labelSubmitted');

export type RoundPhase =
  | 'opening'
  | 'scoring'
  | 'selecting'
  | 'auto-accepting'
  | 'labeling'
  | 'training'
  | 'reindexing'
  | 'evaluating'
  | 'checking-labels'
  | 'completed'
  | 'cancelled'
  | 'failed';

export interface RoundProgress {
  roundId: string | null;
  number: number | null;
  phase: RoundPhase;
  /** Human labels requested (tasks opened) and received so far. */
  asked: number;
  /** Of `asked`, tasks on a random sample of eval items (what evaluation reads). */
  evalAsked: number;
  received: number;
  expired: number;
  autoAccepted: number;
  autoThreshold: number | null;
  headVersionId: string | null;
  macroF1: number | null;
  promoted: boolean | null;
  /** Open label issues after the round's label check (null before it, or when it failed). */
  openLabelIssues: number | null;
  note: string | null;
  /** When each phase started (ISO time), in order. */
  phases: { phase: RoundPhase; startedAt: string }[];
}
export const roundProgress = defineQuery<RoundProgress>('roundProgress');

export interface CampaignProgress {
  campaignId: string | null;
  roundsDone: number;
  currentRoundWorkflowId: string | null;
  stopReason: string | null;
  history: { round: number; macroF1: number | null; asked: number; autoAccepted: number }[];
}
export const campaignProgress = defineQuery<CampaignProgress>('campaignProgress');

export interface IngestProgress {
  embedded: number;
  failedCount: number;
  /** The first 100 items that could not be encoded, and why. */
  failures: { itemId: string; reason: string }[];
  total: number | null;
  /** Items the check after the ingest marked as near-duplicates of earlier ones. */
  nearDuplicates: number;
  /** Why the near-duplicate check did not run to the end, when it did not. */
  note: string | null;
  done: boolean;
}
export const ingestProgress = defineQuery<IngestProgress>('ingestProgress');

/** Timing knobs of a round; the defaults suit people, tests shorten them. */
export interface RoundTiming {
  /** Stop waiting for labels after this long (default 7 days); unfinished tasks expire. */
  labelingTimeoutMs?: number;
  /** How often expired task leases are checked while waiting (default 30 s). */
  leaseCheckIntervalMs?: number;
  /**
   * How long a step is retried through an outage (database, worker) before the round fails
   * and is closed (default 1 hour).
   */
  retryWindowMs?: number;
}

export interface RoundInput extends RoundTiming {
  projectId: string;
  campaignId?: string | null;
  /** Task queue of the gpu worker (retrain, reindex). */
  gpuTaskQueue: string;
  /** How the round chooses what to ask (default: the project's selectionStrategy setting). */
  strategy?: Strategy;
  /**
   * Varies the round's random draws (cold start, random sampling, eval sample, head training)
   * while keeping them reproducible; benchmarks give every strategy of a seed the same draws.
   */
  seed?: number;
}

export interface RoundResult {
  roundId: string;
  number: number;
  asked: number;
  evalAsked: number;
  received: number;
  autoAccepted: number;
  headVersionId: string;
  /** Null when the project had too few labeled eval items to evaluate on. */
  macroF1: number | null;
  promoted: boolean;
  reason: string;
}

export interface CampaignInput extends RoundTiming {
  projectId: string;
  gpuTaskQueue: string;
  strategy?: Strategy;
  /** Passed to every round (RoundInput.seed). */
  seed?: number;
  /** Stop after this many rounds (besides budget and target). */
  maxRounds?: number;
  /** Carried across continue-as-new. */
  campaignId?: string;
  history?: CampaignProgress['history'];
}

export interface CampaignResult {
  campaignId: string;
  rounds: number;
  stopReason: string;
}

export type EncoderTrainingPhase =
  | 'waiting-for-worker'
  | 'planning'
  | 'preparing'
  | 'training'
  | 'registering'
  | 'embedding'
  | 'waiting-for-round'
  | 'switching'
  | 'completed'
  | 'cancelled'
  | 'failed';

export interface TrainEncoderInput {
  projectId: string;
  /**
   * ae | dae | simclr (the trainer's pretraining objectives), or finetune: the project's
   * encoder trained further on people's pool labels (widths, batch size and input size unused).
   */
  objective: string;
  epochs: number;
  /** Square input side; default from the images (see trainingInput). */
  inputSize?: number | null;
  batchSize?: number;
  seed?: number;
  /** Network width per stage (the trainer's --widths); default its CPU size. */
  widths?: number[];
  /** Use only this many pool images (tests, quick trials). */
  maxImages?: number;
  /** Switch the project to the new encoder once embedded (default true). */
  switchProject?: boolean;
  gpuTaskQueue: string;
  trainTaskQueue: string;
  /** How long the training worker may go silent before its attempt is retried elsewhere. */
  heartbeatTimeoutMs?: number;
}

export interface EncoderTrainingProgress {
  phase: EncoderTrainingPhase;
  objective: string;
  epochs: number;
  images: number | null;
  skippedCount: number;
  /** The first images that could not be decoded, and why. */
  skipped: { itemId: string; reason: string }[];
  input: { width: number; height: number; channels: number } | null;
  encoderVersionId: string | null;
  previousEncoderVersionId: string | null;
  /** Loss per finished epoch, once training is done (live values: the activity's heartbeat). */
  lossCurve: number[];
  resumedAfterEpoch: number | null;
  embedded: number;
  embedFailed: number;
  note: string | null;
  phases: { phase: EncoderTrainingPhase; startedAt: string }[];
}
export const encoderTrainingProgress =
  defineQuery<EncoderTrainingProgress>('encoderTrainingProgress');

/** A training's progress before any step has run. */
export function newEncoderTrainingProgress(
  input: Pick<TrainEncoderInput, 'objective' | 'epochs'>,
  phase: EncoderTrainingPhase,
): EncoderTrainingProgress {
  return {
    phase,
    objective: input.objective,
    epochs: input.epochs,
    images: null,
    skippedCount: 0,
    skipped: [],
    input: null,
    encoderVersionId: null,
    previousEncoderVersionId: null,
    lossCurve: [],
    resumedAfterEpoch: null,
    embedded: 0,
    embedFailed: 0,
    note: null,
    phases: [],
  };
}

/** A delivery's deliverWebhook workflow is `<prefix><delivery id>` (one sender per delivery). */
export const WEBHOOK_DELIVERY_PREFIX = 'webhook-delivery-';

/** A head's refreshSearchIndex workflow is `<prefix><head id>` (one build per head). */
export const SEARCH_INDEX_PREFIX = 'search-index-';
