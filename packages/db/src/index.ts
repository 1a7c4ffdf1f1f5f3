export { Database, createDatabase } from './database.ts';
export { type Queryable } from './queryable.ts';
export { ChangeListener, type ChangeHandlers, type LiveChange } from './changes.ts';
export { ReadCache } from './read-cache.ts';
export { isDatabaseUnavailable, type ConnectionLimits } from './connection.ts';
export { migrate, MigrationError, MIGRATIONS_DIR, type MigrationResult } from './migrate.ts';
export * as cluster from './cluster.ts';
export { hashPassword, verifyPassword, type SessionUser } from './repositories/users.ts';
export type { Budget } from './repositories/budget.ts';
export type { ClassIndex } from './repositories/classes.ts';
export type {
  NewItem,
  ItemIssue,
  ItemFilter,
  ItemSort,
  ExportItem,
  PoolShapes,
} from './repositories/items.ts';
export type { KnnFilter, KnnQuery, Neighbor } from './repositories/knn.ts';
export type {
  NewLabel,
  CurrentLabel,
  ExportedLabel,
  AnnotatorStats,
} from './repositories/labels.ts';
export type { FoundIssue, IssueCheckResult, ReviewDecision } from './repositories/label-issues.ts';
export { MIN_GOLD_ANSWERS, isGoldClaim } from './repositories/gold.ts';
export type { NewPrediction } from './repositories/predictions.ts';
export type { ProjectSettings, NewClass, ItemCounts } from './repositories/projects.ts';
export type { NewHead } from './repositories/heads.ts';
export type { NewEncoder } from './repositories/encoders.ts';
export {
  MAX_ENDPOINTS_PER_PROJECT,
  type DeliveryToSend,
  type NewEvent,
} from './repositories/webhooks.ts';
export {
  MAX_ALSO_ITEMS,
  MAX_OPEN_CLAIMS,
  type TaskCounts,
  type TaskSubmission,
  type SubmittedLabel,
  type SelectionCandidate,
} from './repositories/tasks.ts';
export {
  VECTOR_DIMS,
  type VectorRow,
  type VectorSetRow,
  type VectorSetState,
  type SearchIndexState,
  type LabeledVectorRow,
  type Split,
  type LabelSource,
} from './repositories/vector-sets.ts';
export * as Models from './generated/prisma/client.ts';
export type {
  Project,
  LabelClass,
  Item,
  Label,
  LabelIssue,
  LabelIssueStatus,
  LabelTask,
  Round,
  Campaign,
  HeadVersion,
  EncoderVersion,
  MetricSnapshot,
  User,
  ApiKey,
  Membership,
  Prediction,
  Role,
  SelectionStrategy,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEvent,
} from './generated/prisma/client.ts';
