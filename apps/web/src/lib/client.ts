import type { TypedDocumentString } from '../generated/graphql.ts';
import { GraphQLRequestError, type GraphQLErrorBody } from './errors.ts';

/** Runs a generated, typed operation from the browser, through this site's /api/graphql. */
export async function call<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables?: TVariables,
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch('/api/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: document.toString(), variables }),
      keepalive: true,
    });
  } catch {
    throw new GraphQLRequestError('No connection to the server; check the network.', 'OFFLINE');
  }
  let body: GraphQLErrorBody<TResult>;
  try {
    body = (await response.json()) as GraphQLErrorBody<TResult>;
  } catch {
    throw new GraphQLRequestError(`The server answered ${response.status}.`, 'INTERNAL');
  }
  if (body.errors?.length) throw GraphQLRequestError.from(body.errors);
  return body.data as TResult;
}
