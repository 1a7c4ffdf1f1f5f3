import { proxyActivities } from '@temporalio/workflow';
import type { OrchestrationActivities } from '@beanstalk/activities';

/**
 * Builds a promoted head's HNSW index over the whole pool and then moves neighbour searches to
 * it, after its round has ended: the previous head's index answers meanwhile. Retried for a
 * day; a killed worker's build starts again (an interrupted concurrent build is dropped). Runs
 * on the orchestration queue: the build is Postgres's work, and the gpu worker stays free.
 */
export async function refreshSearchIndex(input: {
  headVersionId: string;
}): Promise<{ searchable: boolean; seconds: number }> {
  const postgres = proxyActivities<OrchestrationActivities>({
    startToCloseTimeout: '2 hours',
    scheduleToCloseTimeout: '1 day',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2 },
  });
  return postgres.indexHeadForSearch({ headVersionId: input.headVersionId });
}
