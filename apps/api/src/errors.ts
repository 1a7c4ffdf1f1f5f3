import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from '@beanstalk/db';
import { isTemporalUnavailable } from '@beanstalk/orchestration';
import { isAppError } from '@beanstalk/shared';

/** What a client sees when a service the request needs is away: a retryable code. */
export function unavailable(error: unknown): { message: string; code: 'UNAVAILABLE' } | null {
  if (isDatabaseUnavailable(error)) {
    return { message: 'the database is unavailable; retry shortly', code: 'UNAVAILABLE' };
  }
  if (isTemporalUnavailable(error)) {
    return { message: 'the workflow service is unavailable; retry shortly', code: 'UNAVAILABLE' };
  }
  return null;
}

const PRISMA_CODES: Record<string, { code: string; message: string }> = {
  P2002: { code: 'CONFLICT', message: 'that already exists' },
  P2025: { code: 'NOT_FOUND', message: 'that does not exist' },
};

/**
 * Turns resolver errors into what a client sees: AppError codes one-to-one, Prisma's
 * unique/not-found errors as CONFLICT/NOT_FOUND, an unreachable database or Temporal as
 * UNAVAILABLE (retryable), and every other fault as an internal error whose details stay in
 * the server log in production.
 */
export function formatError(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isAppError(original)) {
      return {
        ...formatted,
        message: original.message,
        extensions: { ...original.details, code: original.code },
      };
    }
    const away = unavailable(original);
    if (away) {
      return {
        ...formatted,
        message: away.message,
        extensions: { code: away.code, retryable: true },
      };
    }
    const prismaCode = (original as { code?: string } | null)?.code;
    if (prismaCode && PRISMA_CODES[prismaCode]) {
      const known = PRISMA_CODES[prismaCode];
      return { ...formatted, message: known.message, extensions: { code: known.code } };
    }
    const code = formatted.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) {
      console.error('api: internal error', original);
      if (production) {
        return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      }
    }
    return formatted;
  };
}
