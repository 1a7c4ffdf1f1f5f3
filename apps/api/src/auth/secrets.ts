import { createHash, randomBytes } from 'node:crypto';

/**
 * Session tokens and API keys are 256 random bits, so a plain sha256 is enough to store them:
 * nothing to brute-force, and the lookup stays one indexed equality.
 */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
export const newToken = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

export const API_KEY_PREFIX = 'bsk_';
export const SESSION_COOKIE = 'beanstalk_session';
