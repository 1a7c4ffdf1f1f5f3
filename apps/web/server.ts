// The web app's server: Next.js behind a thin Node HTTP server that decides, once, which
// address a request comes from. Next itself passes a client's own X-Forwarded-For header on
// as it is, so anyone could claim any address; here the header is replaced by the connection's
// address, or by what a reverse proxy listed in BEANSTALK_WEB_TRUSTED_PROXIES recorded.
// It also carries the browser's subscription sockets (/api/graphql) to the API.
import { createServer, request, type IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import next from 'next';
import proxyaddr from 'proxy-addr';
import { loadConfig } from '@beanstalk/config';

const config = loadConfig();
const dir = path.dirname(fileURLToPath(import.meta.url));
const trusted = proxyaddr.compile(config.web.trustedProxies);
/** The WebSocket handshake headers the API needs, and the credentials it reads. */
const UPGRADE_HEADERS = [
  'authorization',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'cookie',
];

const app = next({
  dev: false,
  dir,
  hostname: config.web.host,
  port: config.web.port,
  // Next adds an upgrade listener of its own (for development reloads) to the server it is
  // given, else to the one its first request came through; in production that listener only
  // closes sockets, the subscription sockets below included. It is given one that never listens.
  httpServer: createServer(),
});
const handle = app.getRequestHandler();
await app.prepare();

function refuse(socket: Duplex, status: number, reason: string) {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * A subscription socket from a page of this site, passed through to the API byte for byte.
 * Pages of other sites are refused: the browser would send them this site's session cookie.
 */
function proxySocket(req: IncomingMessage, socket: Duplex, head: Buffer) {
  socket.on('error', () => socket.destroy());
  if (new URL(req.url ?? '/', 'http://web').pathname !== '/api/graphql') {
    return refuse(socket, 404, 'Not Found');
  }
  let sameSite = false;
  try {
    sameSite = new URL(req.headers.origin ?? '').host === req.headers.host;
  } catch {
    // No Origin, or not a URL: not a page of this site.
  }
  if (!sameSite) return refuse(socket, 403, 'Forbidden');
  const api = new URL(config.api.url);
  const headers: Record<string, string> = {
    connection: 'Upgrade',
    upgrade: 'websocket',
    'x-forwarded-for': proxyaddr(req, trusted),
  };
  for (const name of UPGRADE_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const upstream = request({
    hostname: api.hostname,
    port: api.port,
    path: api.pathname,
    headers,
    timeout: 10_000,
  });
  upstream.on('upgrade', (answer, apiSocket, apiHead) => {
    apiSocket.on('error', () => socket.destroy());
    socket.on('close', () => apiSocket.destroy());
    apiSocket.on('close', () => socket.destroy());
    const lines = ['HTTP/1.1 101 Switching Protocols'];
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (apiHead.length > 0) socket.write(apiHead);
    if (head.length > 0) apiSocket.write(head);
    apiSocket.pipe(socket).pipe(apiSocket);
  });
  // The API refused the socket (credentials, limits): the browser gets the same status.
  upstream.on('response', (answer) => {
    answer.resume();
    refuse(socket, answer.statusCode ?? 502, answer.statusMessage || 'Refused');
  });
  upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
  upstream.on('error', () => refuse(socket, 502, 'Bad Gateway'));
  upstream.end();
}

const server = createServer((req, res) => {
  req.headers['x-forwarded-for'] = proxyaddr(req, trusted);
  void handle(req, res);
});
server.on('upgrade', proxySocket);
server.listen(config.web.port, config.web.host, () => {
  console.log(`web: ready on http://${config.web.host}:${config.web.port}`);
});
