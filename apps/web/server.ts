// The web app's server: Next.js behind a thin Node HTTP server that decides, once, which
// address a request comes from. Next itself passes a client's own X-Forwarded-For header on
// as it is, so anyone could claim any address; here the header is replaced by the connection's
// address, or by what a reverse proxy listed in BEANSTALK_WEB_TRUSTED_PROXIES recorded.
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import proxyaddr from 'proxy-addr';
import { loadConfig } from '@beanstalk/config';

const config = loadConfig();
const dir = path.dirname(fileURLToPath(import.meta.url));
const trusted = proxyaddr.compile(config.web.trustedProxies);

const app = next({ dev: false, dir, hostname: config.web.host, port: config.web.port });
const handle = app.getRequestHandler();
await app.prepare();
createServer((req, res) => {
  req.headers['x-forwarded-for'] = proxyaddr(req, trusted);
  void handle(req, res);
}).listen(config.web.port, config.web.host, () => {
  console.log(`web: ready on http://${config.web.host}:${config.web.port}`);
});
