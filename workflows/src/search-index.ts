import { proxyActivities } from '@temporalio/workflow';
import type { GpuActivities } from '@beanstalk/activities';

/**
 * Builds a promoted head's HNSW index over the whole pool and then moves neighbour searches to
 * it, after its round has ended: the previous head's index answers meanwhile. Retried for a
 * day; a killed worker's build starts again (an interrupted concurrent build is dropped).
 */
export async function refreshSearchIndex(input: {
  headVersionId: string;
  gpuTaskQueue: string;
}): Promise<{ searchable: boolean; seconds: number }> {
  const model = proxyActivities<GpuActivities>({
    taskQueue: input.gpuTaskQueue,
    startToCloseTimeout: '2 hours',
    scheduleToCloseTimeout: '1 day',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2 },
  });
  return model.indexHeadForSearch({ headVersionId: input.headVersionId });
}
