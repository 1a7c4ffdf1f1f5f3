import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { EmbedResult, GpuActivities, OrchestrationActivities } from '@beanstalk/activities';
import { ingestProgress, type IngestProgress } from './definitions.ts';

const db = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 20 },
});

/**
 * Embeds a project's items that have no backbone features yet, a page of activities at a
 * time on the gpu queue (each heartbeating and resumable), so progress is queryable and a
 * re-run skips what is done. Undecodable images are reported, not retried.
 */
export async function ingest(input: {
  projectId: string;
  gpuTaskQueue: string;
  pageSize?: number;
}): Promise<IngestProgress> {
  const model = proxyActivities<GpuActivities>({
    taskQueue: input.gpuTaskQueue,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  });
  const progress: IngestProgress = {
    embedded: 0,
    failedCount: 0,
    failures: [],
    total: null,
    done: false,
  };
  setHandler(ingestProgress, () => progress);
  progress.total = await db.countItemsWithoutFeatures({ projectId: input.projectId });
  let after: string | null = null;
  while (!progress.done) {
    const page: EmbedResult = await model.embedItems({
      projectId: input.projectId,
      after,
      limit: input.pageSize ?? 2000,
    });
    progress.embedded += page.embedded;
    progress.failedCount += page.failed.length;
    progress.failures.push(...page.failed.slice(0, 100 - progress.failures.length));
    progress.done = page.done;
    after = page.after;
  }
  return progress;
}
