import { loadConfig } from '@beanstalk/config';

/**
 * The browser's way to the GraphQL API: same origin (so the API's session cookie is this
 * site's cookie), streamed through as it arrives, never more than the API would take. Only
 * the headers the API reads go through, the client's address among them (set by server.ts
 * from the connection, not by the client).
 */
const FORWARDED = [
  'content-type',
  'content-length',
  'cookie',
  'apollo-require-preflight',
  'authorization',
  'x-forwarded-for',
];

const failure = (status: number, message: string, code: string) =>
  Response.json({ errors: [{ message, extensions: { code } }] }, { status });

export async function POST(request: Request): Promise<Response> {
  const config = loadConfig();
  const limit = config.api.maxRequestBytes;
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    return failure(413, `the request body is over ${limit} bytes`, 'BAD_USER_INPUT');
  }
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  let seen = 0;
  let tooLarge = false;
  const body = request.body?.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          tooLarge = true;
          controller.error(new Error('request body too large'));
        } else controller.enqueue(chunk);
      },
    }),
  );
  let upstream: Response;
  try {
    upstream = await fetch(config.api.url, {
      method: 'POST',
      headers,
      body,
      cache: 'no-store',
      // A streamed request body (Node's fetch needs to be told).
      duplex: 'half',
    } as RequestInit);
  } catch (error) {
    if (tooLarge) return failure(413, `the request body is over ${limit} bytes`, 'BAD_USER_INPUT');
    return failure(
      502,
      `The API is not reachable (${(error as Error).message}).`,
      'API_UNREACHABLE',
    );
  }
  const response = new Response(upstream.body, {
    status: upstream.status,
    headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
  });
  for (const cookie of upstream.headers.getSetCookie())
    response.headers.append('set-cookie', cookie);
  return response;
}
