import type { ActivityDeps } from './deps.ts';
import { createAutoAcceptActivities } from './auto-accept.ts';
import { createCampaignActivities } from './campaigns.ts';
import { createEmbeddingActivities } from './embedding.ts';
import {
  createEncoderModelActivities,
  createEncoderPlanningActivities,
} from './encoder-training.ts';
import { createEvaluationActivities } from './evaluation.ts';
import { createLabelCheckActivities } from './label-check.ts';
import { createLabelingActivities } from './labeling.ts';
import { createNearDuplicateActivities } from './near-duplicates.ts';
import { createPlatformActivities } from './platform.ts';
import { createReindexActivities } from './reindex.ts';
import { createRoundActivities } from './rounds.ts';
import { createScoringActivities } from './scoring.ts';
import { createSearchIndexActivities } from './search-index.ts';
import { createSelectionActivities } from './selection.ts';
import { createTrainingActivities } from './training.ts';
import { createWebhookActivities } from './webhooks.ts';

/**
 * The orchestration queue's activities: database work and in-memory kNN, one file per phase
 * of a round (rounds, scoring, selection, auto-accept, labeling, evaluation, label check) plus campaigns,
 * planning and switching encoder training, platform reads, webhook deliveries and building a
 * promoted head's search index.
 */
export function createOrchestrationActivities(deps: ActivityDeps) {
  return {
    ...createPlatformActivities(deps),
    ...createRoundActivities(deps),
    ...createScoringActivities(deps),
    ...createSelectionActivities(deps),
    ...createAutoAcceptActivities(deps),
    ...createLabelingActivities(deps),
    ...createEvaluationActivities(deps),
    ...createLabelCheckActivities(deps),
    ...createCampaignActivities(deps),
    ...createEncoderPlanningActivities(deps),
    ...createWebhookActivities(deps),
    ...createSearchIndexActivities(deps),
  };
}

/**
 * The gpu queue's activities: everything that runs the encoder or a head over many items, and
 * decoding training images and checking a trained encoder. (Training itself runs in the Python
 * worker on the train queue: `TrainerActivities`.)
 */
export function createGpuActivities(deps: ActivityDeps) {
  return {
    ...createEmbeddingActivities(deps),
    ...createNearDuplicateActivities(deps),
    ...createEncoderModelActivities(deps),
    ...createTrainingActivities(deps),
    ...createReindexActivities(deps),
  };
}

export type OrchestrationActivities = ReturnType<typeof createOrchestrationActivities>;
export type GpuActivities = ReturnType<typeof createGpuActivities>;
export { createPlatformActivities };
export type { ActivityDeps } from './deps.ts';
export type { RoundSettings } from './rounds.ts';
export type { Evaluation } from './evaluation.ts';
export type { LabelCheck } from './label-check.ts';
export type { NearDuplicateCheck } from './near-duplicates.ts';
export { eventType, type WebhookEventInput } from './webhooks.ts';
export { checkWebhookUrl, signature, WebhookRefused } from './webhook-http.ts';
export type { EmbedResult } from './embedding.ts';
export type {
  FineTuneSpec,
  PretrainResult,
  PretrainSpec,
  TrainerActivities,
  TrainingPlan,
} from './encoder-training.ts';
