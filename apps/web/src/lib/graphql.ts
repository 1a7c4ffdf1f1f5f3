import 'server-only';
import { loadConfig } from '@beanstalk/config';
import type { TypedDocumentString } from '../generated/graphql.ts';

export class GraphQLRequestError extends Error {}

/** Runs a generated, typed operation against the API from a server component. */
export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  const url = loadConfig().api.url;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: document.toString(), variables }),
      cache: 'no-store',
    });
  } catch (error) {
    throw new GraphQLRequestError(
      `The API at ${url} is not reachable (${(error as Error).message}).`,
    );
  }
  const body = (await response.json()) as { data?: TResult; errors?: { message: string }[] };
  if (body.errors?.length)
    throw new GraphQLRequestError(body.errors.map((e) => e.message).join('; '));
  if (!body.data)
    throw new GraphQLRequestError(`The API answered ${response.status} without data.`);
  return body.data;
}
