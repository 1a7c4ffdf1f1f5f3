export { createPrisma, type PrismaClient } from './prisma.ts';
export { createPool, type Pool, type PoolClient } from './pool.ts';
export { copyRows, type CopyField } from './binary.ts';
export { migrate, MigrationError, MIGRATIONS_DIR, type MigrationResult } from './migrate.ts';
export {
  VECTOR_DIMS,
  upsertVectors,
  appendVectors,
  truncateVectorSetAfter,
  createVectorSet,
  publishVectorSet,
  activateVectorSet,
  dropVectorSet,
  vectorSetState,
  type VectorSetState,
  knn,
  exactKnn,
  explainKnn,
  readVectors,
  type KnnFilter,
  type KnnQuery,
  type Neighbor,
  type VectorRow,
  type VectorSetRow,
  type Split,
  type LabelSource,
} from './vectors.ts';
export {
  appendLabel,
  currentLabels,
  revertAutoLabels,
  type NewLabel,
  type CurrentLabel,
} from './labels.ts';
export {
  budgetOf,
  lockProjectBudget,
  claimNextTask,
  submitTaskLabel,
  skipTask,
  expireTasks,
  taskCounts,
  type Budget,
  type ClaimedTask,
  type TaskSubmission,
  type StoredSubmission,
  type TaskCounts,
} from './tasks.ts';
export {
  insertFeatures,
  itemsWithoutFeatures,
  readFeaturePage,
  readFeaturesOf,
  readVectorPage,
  type ItemVectorRow,
} from './features.ts';
export * as Models from './generated/prisma/client.ts';
export type {
  Project,
  LabelClass,
  Item,
  Label,
  LabelTask,
  Round,
  Campaign,
  HeadVersion,
  EncoderVersion,
  MetricSnapshot,
  User,
  ApiKey,
  Prediction,
} from './generated/prisma/client.ts';
export { hashPassword, verifyPassword, createUser, setMembership } from './users.ts';
export { projectBySlug, apiKeyByHash, rowsByIds, labelsOfItems, predictionsOf } from './rows.ts';
