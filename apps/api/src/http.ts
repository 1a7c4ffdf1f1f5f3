import type { Server } from 'node:http';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';
import { isAppError, type AppError } from '@beanstalk/shared';
import { RequestLimiter } from './auth/throttle.ts';
import { resolveViewer, type Viewer } from './auth/viewer.ts';
import type { Context, Services } from './context.ts';
import { unavailable } from './errors.ts';
import { createLoaders } from './loaders.ts';
import { createApolloServer } from './server.ts';
import { processUploadRequest } from './services/uploads.ts';
import { attachSubscriptions, type SubscriptionOptions } from './websocket.ts';

const HTTP_STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
  RATE_LIMITED: 429,
};

/** The caller a verified request is counted as. */
const principal = (viewer: Viewer) =>
  viewer.kind === 'apiKey'
    ? `key:${viewer.apiKey.id}`
    : viewer.kind === 'user'
      ? `user:${viewer.user.id}`
      : null;

/** A JSON error body in GraphQL's shape, for failures before GraphQL runs. */
const errorBody = (message: string, code: string, extra: Record<string, unknown> = {}) => ({
  errors: [{ message, extensions: { code, ...extra } }],
});

/** Every answer is for one caller: no browser or proxy may keep it, errors included. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('cache-control', 'no-store');
  next();
};

/**
 * Requests per client address, before anything else runs: an unknown or random credential
 * does not buy a fresh allowance. The address is the connection's, or what a trusted proxy
 * (BEANSTALK_TRUSTED_PROXIES, loopback by default: the web app) says it forwarded.
 */
function limitPerAddress(limiter: RequestLimiter): RequestHandler {
  return (req, res, next) => {
    limiter.consume(`ip:${req.ip ?? 'unknown'}`).then(
      () => next(),
      (error: AppError) => {
        const retry = Number(error.details.retryAfterSeconds ?? 1);
        res.setHeader('Retry-After', String(retry));
        res.status(429).json(errorBody(error.message, 'RATE_LIMITED'));
      },
    );
  };
}

/**
 * Who is calling, decided from the headers before any body is read: an unknown or revoked
 * credential is refused here, each caller's requests are counted, and an upload (multipart)
 * must come from a signed-in caller and say its size, within the limit, before a byte of it
 * is parsed.
 */
function identify(
  { db, reads }: Pick<Services, 'db' | 'reads'>,
  perCaller: RequestLimiter,
  maxBytes: number,
): RequestHandler {
  return (req, res, next) => {
    const refuse = (status: number, message: string, code: string, extra = {}) =>
      res.status(status).json(errorBody(message, code, extra));
    (async () => {
      const viewer = await resolveViewer(db, reads, req.headers);
      const who = principal(viewer);
      if (who) await perCaller.consume(who);
      if (req.is('multipart/form-data')) {
        if (!who)
          return refuse(401, 'uploads need a signed-in caller or an API key', 'UNAUTHENTICATED');
        const length = Number(req.headers['content-length'] ?? Number.NaN);
        if (!Number.isFinite(length)) {
          return refuse(411, 'an upload must say its size (Content-Length)', 'BAD_USER_INPUT');
        }
        if (length > maxBytes) {
          return refuse(413, `the request body is over ${maxBytes} bytes`, 'BAD_USER_INPUT');
        }
      }
      res.locals.viewer = viewer;
      next();
    })().catch((error: unknown) => {
      const away = unavailable(error);
      if (away) return refuse(503, away.message, away.code, { retryable: true });
      if (!isAppError(error)) return next(error);
      if (error.code === 'RATE_LIMITED') {
        res.setHeader('Retry-After', String(error.details.retryAfterSeconds ?? 1));
      }
      refuse(HTTP_STATUS[error.code] ?? 400, error.message, error.code);
    });
  };
}

/** Errors from the upload and body parsers: a readable GraphQL-shaped answer, never a stack. */
const parserErrors: ErrorRequestHandler = (
  error: { status?: number; type?: string; message?: string },
  _req,
  res,
  next,
) => {
  void next;
  const status = error.status ?? 500;
  const message =
    error.type === 'entity.parse.failed'
      ? 'the request body is not valid JSON'
      : error.type === 'entity.too.large'
        ? 'the request body is too large'
        : status < 500
          ? (error.message ?? 'bad request')
          : 'internal server error';
  if (status >= 500) console.error('api: request failed', error);
  res
    .status(status)
    .json(errorBody(message, status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR'));
};

/**
 * The HTTP app: POST/GET /graphql (JSON or multipart uploads); `subscribe` adds subscriptions
 * over WebSocket on the same path to the server the app listens with.
 */
export async function createHttpApp(services: Services) {
  const { config, db } = services;
  const apollo = createApolloServer({ production: config.environment === 'production' });
  await apollo.start();
  const app = express();
  app.disable('x-powered-by');
  // Answers are never cached (no-store), so hashing each one for an ETag is wasted work.
  app.set('etag', false);
  app.set('trust proxy', config.api.trustedProxies);
  const perAddress = new RequestLimiter(config.api.rateLimitPerSecond);
  const perCaller = new RequestLimiter(config.api.rateLimitPerSecond);
  app.use(
    '/graphql',
    noStore,
    limitPerAddress(perAddress),
    identify(services, perCaller, config.api.maxRequestBytes),
    graphqlUploadExpress({
      processRequest: processUploadRequest,
      maxFileSize: config.api.maxUploadBytes,
      maxFiles: config.api.maxFiles,
    }),
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      async context({ req, res }): Promise<Context> {
        return {
          ...services,
          viewer: res.locals.viewer as Viewer,
          clientAddress: req.ip ?? 'unknown',
          loaders: createLoaders(db),
          setHeader: (name, value) => res.append(name, value),
        };
      },
    }),
  );
  app.use(parserErrors);
  const subscribe = (server: Server, options?: SubscriptionOptions) =>
    attachSubscriptions(server, services, perAddress, options);
  return { app, apollo, subscribe };
}
