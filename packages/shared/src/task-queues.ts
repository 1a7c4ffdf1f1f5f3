/** Temporal task queues: orchestration runs workflows and light activities, gpu runs ML. */
export const TASK_QUEUES = {
  orchestration: 'beanstalk-orchestration',
  gpu: 'beanstalk-gpu',
  /** The Python training worker (apps/trainer). */
  train: 'beanstalk-train',
} as const;

export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];
