// Parent shapes of GraphQL types that are not plain database rows (see codegen.ts mappers).
import type { AnnotatorStats, Models, Neighbor } from '@beanstalk/db';
import type { ClassMetrics } from '@beanstalk/ml';
import type { Classification } from '@beanstalk/model-runtime';

export interface MembershipParent {
  projectId: string;
  userId: string;
  role: Models.Role;
}

export type PredictionParent = Models.Prediction;
export type NeighborParent = Neighbor;

export interface ClassificationParent extends Classification {
  itemId: string | null;
}

export interface ClassMetricsParent extends ClassMetrics {
  labelClassId: string;
}

export interface AnnotatorCountParent extends AnnotatorStats {
  projectId: string;
}

/** Objects computed per project on demand (budget, metrics). */
export interface ProjectScoped {
  projectId: string;
}
