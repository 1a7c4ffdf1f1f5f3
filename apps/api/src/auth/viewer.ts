import { parse as parseCookie } from 'cookie';
import type { Database, Models, ReadCache } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';
import { API_KEY_PREFIX, SESSION_COOKIE, tokenHash } from './secrets.ts';

export type Role = Models.Role;

/** Who is calling. Anonymous callers may only ask for health and sign in. */
export type Viewer =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      user: Models.User;
      sessionId: string;
      /** Role per project id. */
      roles: Map<string, Role>;
    }
  | { kind: 'apiKey'; apiKey: Models.ApiKey };

/**
 * Resolves the caller from `Authorization: Bearer bsk_...` (the key read through the cache: a
 * revoked key is dropped from it when the revocation is announced) or the session cookie.
 */
export async function resolveViewer(
  db: Database,
  reads: ReadCache,
  headers: { authorization?: string | undefined; cookie?: string | undefined },
): Promise<Viewer> {
  const bearer = headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) {
    const apiKey = bearer.startsWith(API_KEY_PREFIX)
      ? await reads.apiKeyByHash(tokenHash(bearer))
      : null;
    if (!apiKey || apiKey.revokedAt) {
      throw new AppError('UNAUTHENTICATED', 'this API key is unknown or revoked');
    }
    // Recorded at most once a minute per key, off the request's path.
    if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > 60_000) {
      void db.users.touchApiKey(apiKey.id).catch(() => undefined);
    }
    return { kind: 'apiKey', apiKey };
  }
  const token = headers.cookie ? parseCookie(headers.cookie)[SESSION_COOKIE] : undefined;
  if (token) {
    const session = await db.users.bySession(tokenHash(token));
    if (session) return { kind: 'user', ...session };
  }
  return { kind: 'anonymous' };
}
