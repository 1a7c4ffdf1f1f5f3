import { TASK_QUEUES } from '@beanstalk/shared';

/** The task queues a workflow started from here uses (tests run on queues of their own). */
export interface Queues {
  orchestration: string;
  gpu: string;
  /** The Python training worker's queue (default TASK_QUEUES.train). */
  train?: string;
}

export const DEFAULT_QUEUES: Queues = {
  orchestration: TASK_QUEUES.orchestration,
  gpu: TASK_QUEUES.gpu,
  train: TASK_QUEUES.train,
};
