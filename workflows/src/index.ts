// Workflow definitions only: deterministic code that reaches the outside world through
// activities, whose types it imports and nothing else (ESLint enforces this folder's rules).
export { platformCheck } from './platform-check.ts';
export { activeLearningRound } from './round.ts';
export { campaign } from './campaign.ts';
export { ingest } from './ingest.ts';
export { trainEncoder } from './train-encoder.ts';
export { deliverWebhook } from './webhooks.ts';
export { refreshSearchIndex } from './search-index.ts';
export * from './definitions.ts';
