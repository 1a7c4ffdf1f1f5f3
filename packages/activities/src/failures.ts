import { ApplicationFailure } from '@temporalio/common';
import { isAppError } from '@beanstalk/shared';

// Bad input and conflicts will not go away on retry; everything else (a database restart, a
// killed process) might.
const PERMANENT = new Set(['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'BUDGET_EXHAUSTED']);

/** Runs an activity body, turning permanent platform errors into non-retryable failures. */
export async function surfacing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isAppError(error) && PERMANENT.has(error.code)) {
      throw ApplicationFailure.create({
        message: error.message,
        type: error.code,
        nonRetryable: true,
        cause: error,
      });
    }
    throw error;
  }
}
