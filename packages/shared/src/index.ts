export { AppError, isAppError, type ErrorCode } from './errors.ts';
export { TASK_QUEUES, type TaskQueue } from './task-queues.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** True for a well-formed UUID (ids here are UUIDs; anything else cannot name a row). */
export const isUuid = (value: string) => UUID.test(value);
