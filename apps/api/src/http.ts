import { createHash } from 'node:crypto';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { isAppError } from '@beanstalk/shared';
import { resolveViewer } from './auth/viewer.ts';
import type { Context, Services } from './context.ts';
import { unavailable } from './errors.ts';
import { createLoaders } from './loaders.ts';
import { createApolloServer } from './server.ts';

const HTTP_STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
};

/** A JSON error body in GraphQL's shape, for failures before GraphQL runs. */
const errorBody = (message: string, code: string) => ({
  errors: [{ message, extensions: { code } }],
});

/** Per API key (or per address for everyone else), averaged over 10 s so bursts pass. */
function rateLimit(perSecond: number): RequestHandler {
  const limiter = new RateLimiterMemory({ points: perSecond * 10, duration: 10 });
  return (req, res, next) => {
    const auth = req.headers.authorization;
    const key = auth
      ? `key:${createHash('sha256').update(auth).digest('hex')}`
      : `ip:${req.ip ?? 'unknown'}`;
    limiter.consume(key).then(
      () => next(),
      (rejection: unknown) => {
        const retry =
          rejection instanceof RateLimiterRes ? Math.ceil(rejection.msBeforeNext / 1000) : 1;
        res.setHeader('Retry-After', String(retry));
        res.status(429).json(errorBody(`too many requests; retry in ${retry} s`, 'RATE_LIMITED'));
      },
    );
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

/** The HTTP app: POST/GET /graphql (JSON or multipart uploads). */
export async function createHttpApp(services: Services) {
  const { config, db } = services;
  const apollo = createApolloServer({ production: config.environment === 'production' });
  await apollo.start();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    '/graphql',
    rateLimit(config.api.rateLimitPerSecond),
    graphqlUploadExpress({ maxFileSize: config.api.maxUploadBytes, maxFiles: config.api.maxFiles }),
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      async context({ req, res }): Promise<Context> {
        let viewer;
        try {
          viewer = await resolveViewer(db, req.headers);
        } catch (error) {
          const away = unavailable(error);
          if (away) {
            throw new GraphQLError(away.message, {
              extensions: { code: away.code, retryable: true, http: { status: 503 } },
            });
          }
          if (!isAppError(error)) throw error;
          throw new GraphQLError(error.message, {
            extensions: { code: error.code, http: { status: HTTP_STATUS[error.code] ?? 400 } },
          });
        }
        return {
          ...services,
          viewer,
          loaders: createLoaders(db),
          setHeader: (name, value) => res.append(name, value),
        };
      },
    }),
  );
  app.use(parserErrors);
  return { app, apollo };
}
