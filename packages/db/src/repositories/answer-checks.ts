import { AppError } from '@beanstalk/shared';

/**
 * Refuses an answer to a task that cannot take it: skipped, expired or past its lease, someone
 * else's claim, or a class that is not the project's or is retired. Tasks and gold questions
 * share it, so their refusals read the same and nothing tells a gold question apart.
 */
export function refuseUnanswerable(input: {
  taskId: string;
  status: string;
  leaseOver: boolean;
  assigneeId: string | null;
  annotatorId: string | null;
  labelClassId: string;
  /** The answer's class in the task's project, or null when it is not one of its classes. */
  cls: { name: string; retired: boolean } | null;
}): void {
  const { taskId, status, leaseOver } = input;
  if (status === 'EXPIRED' || status === 'SKIPPED' || leaseOver) {
    throw new AppError(
      'CONFLICT',
      `task ${taskId} is ${leaseOver ? 'past its lease' : status.toLowerCase()}; its item went back to the pool`,
    );
  }
  if (input.assigneeId && input.assigneeId !== input.annotatorId) {
    throw new AppError('CONFLICT', `task ${taskId} is claimed by someone else`);
  }
  if (!input.cls) {
    throw new AppError(
      'BAD_USER_INPUT',
      `class ${input.labelClassId} is not a class of this project`,
    );
  }
  if (input.cls.retired) throw new AppError('BAD_USER_INPUT', `class ${input.cls.name} is retired`);
}
