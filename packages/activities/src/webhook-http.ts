// Sending one webhook request: the signature, and an HTTP POST that cannot be pointed at
// this machine's or its network's services, cannot hang, and reads only a little back.
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

/** Bytes of a receiver's answer kept for the delivery log. */
const RESPONSE_BYTES = 1024;

/**
 * `Beanstalk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
 * endpoint's secret>`. Receivers recompute it and refuse a timestamp older than a few minutes
 * (a replayed request carries an old one and cannot be re-signed without the secret).
 */
export function signature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Loopback, private, link-local (cloud metadata), shared and unspecified ranges. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
PRIVATE.addAddress('::', 'ipv6');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');
PRIVATE.addSubnet('::ffff:0:0', 96, 'ipv6'); // IPv4-mapped: judged as IPv4 below

function isPrivate(address: string): boolean {
  const mapped = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  return PRIVATE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

export class WebhookRefused extends Error {}

/**
 * The address check runs on what the connection actually uses (the lookup below), so a name
 * that resolves to a public address when registered and a private one later is still refused.
 */
function guardedLookup(allowPrivate: boolean) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = allowPrivate ? [] : addresses.filter((a) => isPrivate(a.address));
      if (refused.length) {
        return callback(
          new WebhookRefused(`${hostname} resolves to a private address (${refused[0]!.address})`),
          [],
        );
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** A URL a webhook may be registered with: http(s), a host, no credentials in it. */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookRefused('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookRefused('only http and https URLs');
  }
  if (url.username || url.password) throw new WebhookRefused('no credentials in the URL');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (host === 'localhost' || (isIP(host) && isPrivate(host)))) {
    throw new WebhookRefused(`${host} is a private address`);
  }
  return url;
}

export interface WebhookResponse {
  status: number;
  /** The first RESPONSE_BYTES of the answer. */
  body: string;
}

/** POSTs `body`; resolves with the answer, rejects on a refused address, timeout or error. */
export function postWebhook(input: {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
}): Promise<WebhookResponse> {
  const url = checkWebhookUrl(input.url, input.allowPrivate);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(input.body),
          'user-agent': 'Beanstalk-Webhooks/1',
          ...input.headers,
        },
        lookup: guardedLookup(input.allowPrivate) as never,
        // No redirects are followed: node's http does not, and that is the point.
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_BYTES) {
            chunks.push(chunk.subarray(0, RESPONSE_BYTES - kept));
            kept += chunk.length;
          }
          if (kept >= RESPONSE_BYTES) response.destroy();
        });
        const done = () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        response.on('end', done);
        response.on('close', done);
        response.on('error', reject);
      },
    );
    const timer = setTimeout(
      () => request.destroy(new Error(`no answer within ${input.timeoutMs} ms`)),
      input.timeoutMs,
    );
    request.on('close', () => clearTimeout(timer));
    request.on('error', reject);
    request.end(input.body);
  });
}
