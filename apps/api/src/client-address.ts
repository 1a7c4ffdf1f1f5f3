import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The address a request is counted against: the connection's, or what a trusted proxy says it
 * forwarded. `trustedProxies` is BEANSTALK_TRUSTED_PROXIES (loopback, addresses, subnets,
 * comma-separated; loopback by default: the web app).
 */
export function clientAddressOf(trustedProxies: string): (req: IncomingMessage) => string {
  const trusted = proxyaddr.compile(trustedProxies.split(',').map((p) => p.trim()));
  return (req) => proxyaddr(req, trusted);
}
