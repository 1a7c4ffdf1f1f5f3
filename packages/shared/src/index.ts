export { AppError, isAppError, type ErrorCode } from './errors.ts';
export { TASK_QUEUES, type TaskQueue } from './task-queues.ts';
