import { serialize } from 'cookie';
import { GraphQLError } from 'graphql';
import { AppError } from '@beanstalk/shared';
import {
  actorId,
  mayCreateProjects,
  maySee,
  requirePlatformAdmin,
  requireSignedIn,
} from '../auth/permissions.ts';
import { API_KEY_PREFIX, newToken, SESSION_COOKIE, tokenHash } from '../auth/secrets.ts';
import type {
  ApiKeyResolvers,
  MembershipResolvers,
  MutationResolvers,
  QueryResolvers,
  UserResolvers,
  ViewerResolvers,
} from '../generated/graphql.ts';
import { iso, owned, projectBySlug } from './access.ts';

export const Viewer: ViewerResolvers = {
  user: (viewer) => (viewer.kind === 'user' ? viewer.user : null),
  apiKey: (viewer) => (viewer.kind === 'apiKey' ? viewer.apiKey : null),
  mayCreateProjects: (viewer) => mayCreateProjects(viewer),
};

export const User: UserResolvers = {
  // Only memberships in projects the caller may see: a colleague met through a label must not
  // reveal the other projects they work on.
  memberships: async (user, _args, { db, viewer }) =>
    (await db.users.memberships(user.id)).filter((m) => maySee(viewer, m.projectId)),
};

export const Membership: MembershipResolvers = {
  project: async (m, _args, { loaders }) => (await loaders.project.load(m.projectId))!,
  user: async (m, _args, { loaders }) => (await loaders.user.load(m.userId))!,
};

export const ApiKey: ApiKeyResolvers = {
  createdAt: (key) => key.createdAt.toISOString(),
  lastUsedAt: (key) => iso(key.lastUsedAt),
  revoked: (key) => key.revokedAt !== null,
};

export const authQueries: Pick<QueryResolvers, 'users' | 'apiKeys'> = {
  users(_parent, _args, { db, viewer }) {
    requirePlatformAdmin(viewer);
    return db.users.list();
  },
  async apiKeys(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'administer');
    return ctx.db.users.apiKeysOf(project.id);
  },
};

export const authMutations: Pick<
  MutationResolvers,
  | 'login'
  | 'logout'
  | 'logoutEverywhere'
  | 'revokeSessions'
  | 'createUser'
  | 'setMembership'
  | 'createApiKey'
  | 'revokeApiKey'
> = {
  async login(_parent, { email, password }, { db, config, setHeader, logins, clientAddress }) {
    const account = email.trim().toLowerCase();
    await logins.begin(account, clientAddress).catch((error: AppError) => {
      // 429 with Retry-After, as for any other rate limit.
      const retry = String(error.details?.retryAfterSeconds ?? 1);
      throw new GraphQLError(error.message, {
        extensions: {
          code: error.code,
          retryAfterSeconds: Number(retry),
          http: { status: 429, headers: new Map([['retry-after', retry]]) },
        },
      });
    });
    const user = await db.users.byEmail(account);
    // The same answer, after the same work, for an unknown email and a wrong password.
    const ok = await logins.verify(account, clientAddress, user?.passwordHash ?? null, password);
    if (!ok || !user) throw new AppError('UNAUTHENTICATED', 'wrong email or password');
    const token = newToken('');
    const maxAge = Math.round(config.api.sessionDays * 86_400);
    await db.users.createSession({
      userId: user.id,
      tokenHash: tokenHash(token),
      expiresAt: new Date(Date.now() + maxAge * 1000),
    });
    setHeader(
      'Set-Cookie',
      serialize(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'lax',
        secure: config.environment === 'production',
        path: '/',
        maxAge,
      }),
    );
    return user;
  },
  async logout(_parent, _args, { db, viewer, setHeader }) {
    if (viewer.kind === 'user') await db.users.endSession(viewer.sessionId);
    setHeader(
      'Set-Cookie',
      serialize(SESSION_COOKIE, '', { httpOnly: true, path: '/', maxAge: 0 }),
    );
    return true;
  },
  async logoutEverywhere(_parent, _args, { db, viewer, setHeader }) {
    requireSignedIn(viewer);
    if (viewer.kind !== 'user') throw new AppError('FORBIDDEN', 'API keys have no sessions');
    const ended = await db.users.endSessionsOf(viewer.user.id);
    setHeader(
      'Set-Cookie',
      serialize(SESSION_COOKIE, '', { httpOnly: true, path: '/', maxAge: 0 }),
    );
    return ended;
  },
  async revokeSessions(_parent, { email }, { db, viewer }) {
    requirePlatformAdmin(viewer);
    const user = await db.users.byEmail(email.trim().toLowerCase());
    if (!user) throw new AppError('NOT_FOUND', `no user ${email}`);
    return db.users.endSessionsOf(user.id);
  },
  createUser(_parent, { email, name, password, isAdmin }, { db, viewer }) {
    requirePlatformAdmin(viewer);
    return db.users.create({ email, name, password, isAdmin: isAdmin ?? false });
  },
  async setMembership(_parent, { project: slug, email, role }, ctx) {
    const project = await projectBySlug(ctx, slug, 'administer');
    return ctx.db.users.setMembership({ projectId: project.id, email, role });
  },
  async createApiKey(_parent, { project: slug, name, role }, ctx) {
    const project = await projectBySlug(ctx, slug, 'administer');
    if (!name.trim()) throw new AppError('BAD_USER_INPUT', 'give the key a name');
    const secret = newToken(API_KEY_PREFIX);
    const apiKey = await ctx.db.users.createApiKey({
      projectId: project.id,
      role,
      name,
      prefix: secret.slice(0, API_KEY_PREFIX.length + 6),
      keyHash: tokenHash(secret),
      createdById: actorId(ctx.viewer),
    });
    return { apiKey, secret };
  },
  async revokeApiKey(_parent, { id }, ctx) {
    const key = await owned(ctx, await ctx.db.users.apiKeyById(id), `API key ${id}`, 'administer');
    const revoked = await ctx.db.users.revokeApiKey(key.id);
    ctx.reads.forgetApiKey(key.id);
    return revoked;
  },
};
