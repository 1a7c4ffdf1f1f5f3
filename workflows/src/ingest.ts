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

interface IdRange {
  /** Ids above this one (null: from the start). */
  after: string | null;
  /** Ids below this one (null: to the end). */
  before: string | null;
}

const DEFAULT_LANES = 4;
const HEX = '0123456789abcdef';
/** The uuid space in 16 ranges by first hex digit (item ids are random, so about even). */
const ID_SHARDS: IdRange[] = [...HEX].map((_, i) => ({
  after: i === 0 ? null : `${HEX[i - 1]}fffffff-ffff-ffff-ffff-ffffffffffff`,
  before: i === 15 ? null : `${HEX[i + 1]}0000000-0000-0000-0000-000000000000`,
}));

/**
 * Embeds a project's items that have no backbone features yet, in pages on the gpu queue
 * (each an activity, heartbeating and resumable), several ranges of ids at once so several gpu
 * workers share one ingest; progress is queryable and a re-run skips what is done.
 * Undecodable images are reported once and passed over.
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
  /** Pages in flight at once (default 4): at most this many gpu workers share the ingest. */
  parallelism?: number;
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
  // Patched: an ingest that started before shards existed replays as one sequence of pages.
  const shards = patched('ingest-shards') ? ID_SHARDS : [{ after: null, before: null }];
  for (;;) {
    let embeddedThisPass = 0;
    /** Embeds one shard of the id space, page after page. */
    const embedShard = async (shard: IdRange) => {
      let after = shard.after;
      for (let done = false; !done;) {
        const page: EmbedResult = await model.embedItems({
          projectId: input.projectId,
          after,
          before: shard.before,
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
    };
    // Lanes take the next shard when free: as many pages in flight as gpu workers can take,
    // each page an activity any gpu worker may run (Temporal hands them out).
    const queue = [...shards];
    const lane = async () => {
      for (let shard = queue.shift(); shard; shard = queue.shift()) await embedShard(shard);
    };
    await Promise.all(Array.from({ length: input.parallelism ?? DEFAULT_LANES }, lane));
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
