import 'server-only';
import { headers } from 'next/headers';
import { loadConfig } from '@beanstalk/config';
import type { TypedDocumentString } from '../generated/graphql.ts';
import { GraphQLRequestError, type GraphQLErrorBody } from './errors.ts';

/**
 * Runs a generated, typed operation against the API from a server component, as the person
 * whose request this is (their session cookie goes along).
 */
export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  const url = loadConfig().api.url;
  const incoming = await headers();
  const cookie = incoming.get('cookie');
  // Set by server.ts from the connection: the API counts requests per client address.
  const client = incoming.get('x-forwarded-for');
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(cookie ? { cookie } : {}),
        ...(client ? { 'x-forwarded-for': client } : {}),
      },
      body: JSON.stringify({ query: document.toString(), variables }),
      cache: 'no-store',
    });
  } catch (error) {
    throw new GraphQLRequestError(
      `The API at ${url} is not reachable (${(error as Error).message}).`,
      'API_UNREACHABLE',
    );
  }
  const body = (await response.json()) as GraphQLErrorBody<TResult>;
  if (body.errors?.length) throw GraphQLRequestError.from(body.errors);
  if (!body.data) {
    throw new GraphQLRequestError(`The API answered ${response.status} without data.`, 'INTERNAL');
  }
  return body.data;
}
