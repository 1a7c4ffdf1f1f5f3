import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import { HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { isAppError, type AppError } from '@beanstalk/shared';
import { RequestLimiter } from './auth/throttle.ts';
import { resolveViewer, type Viewer } from './auth/viewer.ts';
import { clientAddressOf } from './client-address.ts';
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

/** The largest JSON request body read (multipart bodies have their own limits). */
const MAX_JSON_BYTES = 1024 * 1024;

/** A refusal before GraphQL runs: the HTTP status and a GraphQL-shaped error body. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR',
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The caller a verified request is counted as. */
const principal = (viewer: Viewer) =>
  viewer.kind === 'apiKey'
    ? `key:${viewer.apiKey.id}`
    : viewer.kind === 'user'
      ? `user:${viewer.user.id}`
      : null;

/** The request's media type, lower case, without parameters ('' when it names none). */
const mediaType = (req: IncomingMessage) =>
  (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();

/** RATE_LIMITED as a refusal that says when to come back. */
function rateLimited(error: AppError): Refusal {
  const retry = String(error.details.retryAfterSeconds ?? 1);
  return new Refusal(429, error.message, 'RATE_LIMITED', {}, { 'retry-after': retry });
}

/**
 * A JSON body of at most MAX_JSON_BYTES: a declared size over it is refused before a byte is
 * read; a body that grows past it stops being kept (the rest is drained, not stored).
 */
function readJson(req: IncomingMessage): Promise<unknown> {
  const tooLarge = () => new Refusal(413, 'the request body is too large');
  if (Number(req.headers['content-length']) > MAX_JSON_BYTES) return Promise.reject(tooLarge());
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    return Promise.reject(new Refusal(415, `unsupported content encoding "${encoding}"`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_JSON_BYTES) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('error', reject);
    // A client that goes away mid-body: nothing will come, so nothing is kept waiting for it.
    req.once('close', () => {
      if (!req.complete) reject(new Refusal(400, 'the request ended before its body did'));
    });
    req.once('end', () => {
      if (size > MAX_JSON_BYTES) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        const body: unknown = JSON.parse(text);
        // Like any JSON API's strict mode: an operation is an object (or a list of them).
        if (typeof body === 'object' && body !== null) return resolve(body);
      } catch {
        // answered below
      }
      reject(new Refusal(400, 'the request body is not valid JSON'));
    });
  });
}

/**
 * The HTTP server: POST/GET /graphql (JSON or multipart uploads) straight on node:http, each
 * request through the same steps a middleware chain would take (no-store, the per-address
 * allowance, who is calling, the body, Apollo), without a framework's router around one path;
 * `subscribe` adds subscriptions over WebSocket on the same path. Not listening yet.
 */
export async function createHttpApp(services: Services) {
  const { config, db, reads } = services;
  const apollo = createApolloServer({ production: config.environment === 'production' });
  await apollo.start();
  const addressOf = clientAddressOf(config.api.trustedProxies);
  const perAddress = new RequestLimiter(config.api.rateLimitPerSecond);
  const perCaller = new RequestLimiter(config.api.rateLimitPerSecond);
  const { maxRequestBytes, maxUploadBytes, maxFiles } = config.api;
  const parsingUpload = new WeakSet<IncomingMessage>();

  /**
   * Who is calling, decided from the headers before any body is read: an unknown or revoked
   * credential is refused here, each caller's requests are counted, and an upload (multipart)
   * must come from a signed-in caller and say its size, within the limit, before a byte of it
   * is parsed.
   */
  async function identify(req: IncomingMessage, multipart: boolean): Promise<Viewer> {
    const viewer = await resolveViewer(db, reads, req.headers);
    const who = principal(viewer);
    if (who) await perCaller.consume(who);
    if (multipart) {
      if (!who) {
        throw new Refusal(401, 'uploads need a signed-in caller or an API key', 'UNAUTHENTICATED');
      }
      const length = Number(req.headers['content-length'] ?? Number.NaN);
      if (!Number.isFinite(length)) {
        throw new Refusal(411, 'an upload must say its size (Content-Length)');
      }
      if (length > maxRequestBytes) {
        throw new Refusal(413, `the request body is over ${maxRequestBytes} bytes`);
      }
    }
    return viewer;
  }

  /**
   * The parsed body: an upload's operations (files in place), JSON, or none (GET). Marks the
   * request once an upload is being parsed: its answer then waits for the rest of the body.
   */
  async function bodyOf(req: IncomingMessage, res: ServerResponse, type: string) {
    if (type === 'multipart/form-data') {
      parsingUpload.add(req);
      return processUploadRequest(req, res, { maxFileSize: maxUploadBytes, maxFiles }).catch(
        (error: { status?: number; expose?: boolean; message?: string }) => {
          if (error.status && error.expose) throw new Refusal(error.status, error.message ?? '');
          throw error;
        },
      );
    }
    return type === 'application/json' ? readJson(req) : undefined;
  }

  async function graphql(req: IncomingMessage, res: ServerResponse, search: string) {
    const address = addressOf(req);
    // Requests per client address, before anything else runs: an unknown or random
    // credential does not buy a fresh allowance.
    await perAddress.consume(`ip:${address}`);
    const type = mediaType(req);
    const viewer = await identify(req, type === 'multipart/form-data');
    const body = await bodyOf(req, res, type);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const request: HTTPGraphQLRequest = { method: req.method ?? 'GET', headers, search, body };
    const answer = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: request,
      context: async (): Promise<Context> => ({
        ...services,
        viewer,
        clientAddress: address,
        loaders: createLoaders(db),
        setHeader: (name, value) => void res.appendHeader(name, value),
      }),
    });
    for (const [key, value] of answer.headers) res.setHeader(key, value);
    res.statusCode = answer.status ?? 200;
    if (answer.body.kind === 'complete') return answer.body.string;
    for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    return '';
  }

  /** A refusal, a service that is away, or a fault, as an HTTP status and a coded error. */
  function failure(error: unknown): Refusal {
    if (error instanceof Refusal) return error;
    const away = unavailable(error);
    if (away) return new Refusal(503, away.message, away.code, { retryable: true });
    if (isAppError(error)) {
      if (error.code === 'RATE_LIMITED') return rateLimited(error);
      return new Refusal(HTTP_STATUS[error.code] ?? 400, error.message, error.code);
    }
    console.error('api: request failed', error);
    return new Refusal(500, 'internal server error');
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    // Every answer is for one caller: no browser or proxy may keep it, errors included.
    res.setHeader('cache-control', 'no-store');
    let text: string;
    try {
      if (path !== '/graphql' && path !== '/graphql/') {
        throw new Refusal(404, 'nothing here: the API answers at /graphql', 'NOT_FOUND');
      }
      text = await graphql(req, res, query < 0 ? '' : url.slice(query));
    } catch (error) {
      const refusal = failure(error);
      for (const [key, value] of Object.entries(refusal.headers)) res.setHeader(key, value);
      res.statusCode = refusal.status;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      const extensions = { code: refusal.code, ...refusal.extra };
      text = JSON.stringify({ errors: [{ message: refusal.message, extensions }] });
    }
    // An upload refused half-way is answered once the rest of it is drained, so the client
    // reads the answer rather than a reset connection. A refusal from the headers alone (size,
    // credential) is answered at once: the client need not send a body that will be thrown away.
    if (parsingUpload.has(req) && !req.readableEnded) {
      req.resume();
      await finished(req).catch(() => undefined);
    }
    if (text) res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  }

  const server = createServer((req, res) => {
    // handle answers every failure itself; what escapes it (a fault while answering) ends this
    // request's connection, never the process.
    handle(req, res).catch((error: unknown) => {
      console.error('api: answering a request failed', error);
      res.destroy();
    });
  });
  const subscribe = (options?: SubscriptionOptions) =>
    attachSubscriptions(server, services, perAddress, options);
  return { server, apollo, subscribe };
}
