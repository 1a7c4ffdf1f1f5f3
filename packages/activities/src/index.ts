export { createPlatformActivities, type PlatformActivities } from './platform.ts';
export {
  createRoundActivities,
  type RoundActivities,
  type RoundSettings,
  type Evaluation,
} from './rounds.ts';
export { createModelActivities, type ModelActivities, type EmbedResult } from './model.ts';
export { registerEncoder, EncoderCache } from './encoders.ts';
export type { ActivityDeps } from './deps.ts';
