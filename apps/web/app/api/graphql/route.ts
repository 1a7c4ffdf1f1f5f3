import { loadConfig } from '@beanstalk/config';

/**
 * The browser's way to the GraphQL API: same origin (so the API's session cookie is this
 * site's cookie), forwarded as is. Only the headers the API reads go through.
 */
const FORWARDED = ['content-type', 'cookie', 'apollo-require-preflight', 'authorization'];

export async function POST(request: Request): Promise<Response> {
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  let upstream: Response;
  try {
    upstream = await fetch(loadConfig().api.url, {
      method: 'POST',
      headers,
      body: await request.arrayBuffer(),
      cache: 'no-store',
    });
  } catch (error) {
    return Response.json(
      {
        errors: [
          {
            message: `The API is not reachable (${(error as Error).message}).`,
            extensions: { code: 'API_UNREACHABLE' },
          },
        ],
      },
      { status: 502 },
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
