import type { Client } from '@temporalio/client';
import type { Database } from '@beanstalk/db';
import { refreshSearchIndex, SEARCH_INDEX_PREFIX } from '@beanstalk/workflows';
import { DEFAULT_QUEUES, type Queues } from './queues.ts';
import { startOnce } from './start-once.ts';

/**
 * Starts the build of a head's search index (after a manager's promotion or rollback, or for
 * a head a round left without one); a build already running for it is left alone (false).
 */
export async function startSearchIndexRefresh(
  client: Client,
  headVersionId: string,
  queues: Queues = DEFAULT_QUEUES,
): Promise<boolean> {
  return startOnce(client, refreshSearchIndex, {
    taskQueue: queues.orchestration,
    workflowId: `${SEARCH_INDEX_PREFIX}${headVersionId}`,
    args: [{ headVersionId }],
  });
}

/**
 * Starts index builds for active heads that do not answer searches yet, once they have been
 * active `minAgeMs` (their round's build had its chance), and says how many it started (a
 * build still running is not counted); run by the maintenance pass.
 */
export async function resumeSearchIndexes(
  deps: { db: Database; client: Client },
  options: { minAgeMs?: number; queues?: Queues } = {},
): Promise<number> {
  const heads = await deps.db.vectorSets.awaitingSearchIndex(
    new Date(Date.now() - (options.minAgeMs ?? 600_000)),
  );
  let started = 0;
  for (const id of heads) {
    if (await startSearchIndexRefresh(deps.client, id, options.queues)) started++;
  }
  return started;
}
