import {
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { EmbedResult, GpuActivities, OrchestrationActivities } from '@beanstalk/activities';
import { ingestProgress, type IngestProgress } from './definitions.ts';
import { emitWebhookEvent } from './webhooks.ts';

// Bounded by time, not attempts (see round.ts).
const RETRY = { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 };
const db = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: RETRY,
});

/**
 * Embeds a project's items that have no backbone features yet, a page of activities at a
 * time on the gpu queue (each heartbeating and resumable), so progress is queryable and a
 * re-run skips what is done. Undecodable images are reported once and passed over.
 *
 * Pages follow item ids, which are random: an item imported while a pass runs may sort
 * behind its cursor. So a pass that embedded anything is followed by another from the start;
 * the first pass that finds nothing new ends the ingest.
 *
 * `encoderVersionId` embeds with that encoder instead of the project's (trainEncoder runs it
 * for a new encoder before switching the project to it).
 */
export async function ingest(input: {
  projectId: string;
  gpuTaskQueue: string;
  pageSize?: number;
  encoderVersionId?: string | null;
}): Promise<IngestProgress> {
  const model = proxyActivities<GpuActivities>({
    taskQueue: input.gpuTaskQueue,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: '6 hours',
    retry: RETRY,
  });
  const progress: IngestProgress = {
    embedded: 0,
    failedCount: 0,
    failures: [],
    total: null,
    nearDuplicates: 0,
    note: null,
    done: false,
  };
  setHandler(ingestProgress, () => progress);
  const encoderVersionId = input.encoderVersionId ?? null;
  progress.total = await db.countItemsWithoutFeatures({
    projectId: input.projectId,
    encoderVersionId,
  });
  const failed = new Set<string>();
  for (;;) {
    let after: string | null = null;
    let embeddedThisPass = 0;
    for (let done = false; !done;) {
      const page: EmbedResult = await model.embedItems({
        projectId: input.projectId,
        after,
        limit: input.pageSize ?? 2000,
        encoderVersionId,
      });
      embeddedThisPass += page.embedded;
      for (const failure of page.failed) {
        if (failed.has(failure.itemId)) continue;
        failed.add(failure.itemId);
        if (progress.failures.length < 100) progress.failures.push(failure);
      }
      progress.embedded += page.embedded;
      progress.failedCount = failed.size;
      done = page.done;
      after = page.after;
    }
    if (embeddedThisPass === 0) break;
    // Items that arrived behind the cursor are what the next pass is for.
    progress.total = Math.max(progress.total ?? 0, progress.embedded + progress.failedCount);
  }
  // Patched: an ingest that started before the check existed replays without it.
  if (patched('near-duplicate-check')) {
    try {
      progress.nearDuplicates = (
        await model.markNearDuplicates({ projectId: input.projectId })
      ).marked;
    } catch (error) {
      if (isCancellation(error)) throw error;
      // Advisory: the images are in and embedded whether or not duplicates were looked for.
      progress.note = `near-duplicate check failed: ${(error as Error).message}`;
    }
  }
  progress.done = true;
  await emitWebhookEvent({
    projectId: input.projectId,
    event: 'IMPORT_FINISHED',
    key: `import-finished:${workflowInfo().runId}`,
    payload: {
      embedded: progress.embedded,
      failedCount: progress.failedCount,
      failures: progress.failures.slice(0, 10),
      nearDuplicates: progress.nearDuplicates,
      encoderVersionId,
    },
  });
  return progress;
}
