import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { isAppError } from '@beanstalk/shared';
import type { RequestLimiter } from './auth/throttle.ts';
import { resolveViewer, type Viewer } from './auth/viewer.ts';
import { clientAddressOf } from './client-address.ts';
import type { Context, Services } from './context.ts';
import { formatError, unavailable } from './errors.ts';
import { createLoaders } from './loaders.ts';
import { armorValidationRules, schema } from './server.ts';

/** Bounds on what one client may hold open or send (WebSocket frames, sockets, operations). */
const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_OPERATIONS_PER_SOCKET = 20;
const MAX_SOCKETS_PER_ADDRESS = 50;
const MAX_SOCKETS = 5_000;
const MAX_TOKENS = 2_000;
/** How often an open socket's credentials are checked again (sign-out, revoked key, role change). */
const RECHECK_MS = 60_000;

export interface SubscriptionOptions {
  /** Default one minute. */
  recheckMs?: number;
}

/** What the socket was opened with and who that is, from the upgrade request onwards. */
interface SocketState {
  address: string;
  credentials: { authorization?: string; cookie?: string };
  viewer: Viewer;
}

/** The same closing codes graphql-ws uses: 4401 unauthenticated, 4403 forbidden. */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;

const who = (viewer: Viewer) =>
  viewer.kind === 'apiKey'
    ? `key:${viewer.apiKey.id}`
    : viewer.kind === 'user'
      ? `user:${viewer.user.id}:${JSON.stringify([...viewer.roles].sort())}`
      : null;

/** Answers an upgrade request it will not take with a plain HTTP status, then hangs up. */
function refuse(socket: Duplex, status: number, message: string) {
  const body = JSON.stringify({ errors: [{ message }] });
  socket.end(
    `HTTP/1.1 ${status} ${status === 429 ? 'Too Many Requests' : 'Refused'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const coded = (message: string, code: string) =>
  new GraphQLError(message, { extensions: { code } });

/**
 * Subscriptions over WebSocket (graphql-ws) on the API's /graphql path. A socket is opened by
 * a caller the HTTP path would take: from an allowed page (or a program, which sends no
 * Origin), within the per-address allowance, with a valid credential (the session cookie or an
 * API key in the upgrade request, or an API key in the init payload). Only subscriptions run
 * here, validated with the same rules as HTTP operations; queries and mutations go over HTTP.
 */
export function attachSubscriptions(
  server: Server,
  services: Services,
  perAddress: RequestLimiter,
  options: SubscriptionOptions = {},
): { close: () => Promise<void> } {
  const { config, db, reads } = services;
  const addressOf = clientAddressOf(config.api.trustedProxies);
  const format = formatError(config.environment === 'production');
  const states = new WeakMap<IncomingMessage, SocketState>();
  const perAddressOpen = new Map<string, number>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    (async () => {
      const url = new URL(req.url ?? '/', 'http://api');
      if (url.pathname !== '/graphql') return refuse(socket, 404, 'no WebSocket here');
      const origin = req.headers.origin;
      if (origin && !config.api.allowedOrigins.includes(origin)) {
        return refuse(socket, 403, 'pages of this origin may not open subscriptions');
      }
      const address = addressOf(req);
      await perAddress.consume(`ip:${address}`);
      if (
        wss.clients.size >= MAX_SOCKETS ||
        (perAddressOpen.get(address) ?? 0) >= MAX_SOCKETS_PER_ADDRESS
      ) {
        return refuse(socket, 429, 'too many open subscription sockets');
      }
      const credentials = {
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
      };
      const viewer = await resolveViewer(db, reads, credentials);
      states.set(req, { address, credentials, viewer });
      wss.handleUpgrade(req, socket, head, (ws) => {
        perAddressOpen.set(address, (perAddressOpen.get(address) ?? 0) + 1);
        ws.once('close', () => {
          const open = (perAddressOpen.get(address) ?? 1) - 1;
          if (open > 0) perAddressOpen.set(address, open);
          else perAddressOpen.delete(address);
        });
        wss.emit('connection', ws, req);
      });
    })().catch((error: unknown) => {
      const away = unavailable(error);
      if (away) return refuse(socket, 503, away.message);
      if (isAppError(error) && error.code === 'RATE_LIMITED')
        return refuse(socket, 429, error.message);
      if (isAppError(error)) return refuse(socket, 401, error.message);
      console.error('api: subscription upgrade failed', error);
      refuse(socket, 500, 'internal server error');
    });
  });

  const formatted = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((e) => format(e.toJSON(), e));

  const rechecks = new WeakMap<WebSocket, ReturnType<typeof setInterval>>();
  const cleanup = useServer<
    Record<string, unknown> | undefined,
    { request: IncomingMessage; socket: WebSocket }
  >(
    {
      schema,
      async onConnect(ctx) {
        const state = states.get(ctx.extra.request);
        if (!state) return false;
        // A program may sign in with an API key in the init payload instead of a header.
        const given = ctx.connectionParams?.authorization;
        if (typeof given === 'string') {
          state.credentials = { authorization: given };
          state.viewer = await resolveViewer(db, reads, state.credentials).catch(() => ({
            kind: 'anonymous' as const,
          }));
        }
        if (state.viewer.kind === 'anonymous') return false;
        const socket = ctx.extra.socket;
        const identity = who(state.viewer);
        const timer = setInterval(() => {
          resolveViewer(db, reads, state.credentials).then(
            (viewer) => {
              if (who(viewer) !== identity) {
                socket.close(CLOSE_FORBIDDEN, 'credentials or roles changed; connect again');
              }
            },
            (error: unknown) => {
              if (!unavailable(error))
                socket.close(CLOSE_UNAUTHORIZED, 'credentials no longer valid');
            },
          );
        }, options.recheckMs ?? RECHECK_MS);
        timer.unref();
        rechecks.set(socket, timer);
        return true;
      },
      onClose(ctx) {
        clearInterval(rechecks.get(ctx.extra.socket));
      },
      onSubscribe(ctx, _id, payload) {
        const state = states.get(ctx.extra.request)!;
        if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_SOCKET) {
          return [
            coded(
              `at most ${MAX_OPERATIONS_PER_SOCKET} subscriptions per connection`,
              'RATE_LIMITED',
            ),
          ];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: MAX_TOKENS });
        } catch (error) {
          return [coded((error as Error).message, 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document, [...specifiedRules, ...armorValidationRules]);
        if (errors.length > 0) {
          return errors.map((e) => coded(e.message, 'GRAPHQL_VALIDATION_FAILED'));
        }
        if (getOperationAST(document, payload.operationName)?.operation !== 'subscription') {
          return [
            coded(
              'only subscriptions go over WebSocket; send queries and mutations over HTTP',
              'BAD_USER_INPUT',
            ),
          ];
        }
        const contextValue: Context = {
          ...services,
          viewer: state.viewer,
          clientAddress: state.address,
          loaders: createLoaders(db),
          setHeader: () => undefined,
        };
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatted(result.errors) } : undefined,
      onError: (_ctx, _id, _payload, errors) => formatted(errors),
    },
    wss,
  );

  return {
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await cleanup.dispose();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}
