'use client';

import { createClient, type Client } from 'graphql-ws';
import { useEffect, useRef } from 'react';
import type { TypedDocumentString } from '../generated/graphql.ts';

let client: Client | null = null;

/**
 * The page's one subscription socket, to this site's /api/graphql (which carries it to the
 * API with the session cookie). Opened with the first subscription, closed shortly after the
 * last; after a break it connects again with backoff and each subscription starts anew with the
 * current state.
 */
function liveClient(): Client {
  client ??= createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/graphql`,
    lazy: true,
    lazyCloseTimeout: 5_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    keepAlive: 20_000,
  });
  return client;
}

/**
 * Follows a subscription while the component is shown: `onData` gets each update (the first
 * is the current state), `onError` a refusal or a lost connection.
 */
export function useSubscription<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  onData: (data: TResult) => void,
  onError?: (message: string) => void,
): void {
  // The latest callbacks, without subscribing again when they change.
  const handlers = useRef({ onData, onError });
  useEffect(() => {
    handlers.current = { onData, onError };
  });
  const key = JSON.stringify(variables);
  useEffect(() => {
    return liveClient().subscribe<TResult>(
      { query: document.toString(), variables: JSON.parse(key) as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors?.length) handlers.current.onError?.(result.errors[0]!.message);
          else if (result.data) handlers.current.onData(result.data);
        },
        error: (error) => {
          const message = Array.isArray(error)
            ? (error as { message: string }[])[0]?.message
            : error instanceof Error
              ? error.message
              : 'the live connection closed';
          handlers.current.onError?.(message ?? 'the live connection failed');
        },
        complete: () => undefined,
      },
    );
  }, [document, key]);
}
