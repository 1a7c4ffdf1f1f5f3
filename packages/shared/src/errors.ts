/**
 * Error codes shared by every layer; the API maps them one-to-one onto GraphQL error codes,
 * workflows mark BAD_INPUT-like ones non-retryable.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'BUDGET_EXHAUSTED'
  /** A service the request needs (database, Temporal) is unreachable: retry shortly. */
  | 'UNAVAILABLE'
  /** Too many requests (or failed sign-ins) from this caller: retry later. */
  | 'RATE_LIMITED'
  | 'INTERNAL';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}
