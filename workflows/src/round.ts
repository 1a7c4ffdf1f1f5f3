import {
  CancellationScope,
  condition,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { GpuActivities, OrchestrationActivities } from '@beanstalk/activities';
import {
  labelSubmitted,
  roundProgress,
  type RoundInput,
  type RoundPhase,
  type RoundProgress,
  type RoundResult,
  SEARCH_INDEX_PREFIX,
} from './definitions.ts';
import { refreshSearchIndex } from './search-index.ts';
import { emitWebhookEvent } from './webhooks.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const RETRY = { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 };

/**
 * The round's activities. Retries are bounded by time, not attempts: an outage of the
 * database or a worker shorter than the retry window (default an hour) is ridden out; past it
 * the round fails and is closed. Closing keeps trying for a week, so a round is never left
 * holding tasks and budget however long the database was gone.
 */
function roundActivities(input: Pick<RoundInput, 'gpuTaskQueue' | 'retryWindowMs'>) {
  const window = input.retryWindowMs ?? HOUR;
  return {
    // Database steps are short.
    db: proxyActivities<OrchestrationActivities>({
      startToCloseTimeout: '2 minutes',
      scheduleToCloseTimeout: window,
      retry: RETRY,
    }),
    // Scoring and auto-accept page through the whole pool (heartbeats carry the resume point);
    // the label check searches every label's neighbours, heartbeating per page.
    scoring: proxyActivities<OrchestrationActivities>({
      startToCloseTimeout: '1 hour',
      scheduleToCloseTimeout: 3 * window,
      heartbeatTimeout: '1 minute',
      retry: RETRY,
    }),
    closing: proxyActivities<OrchestrationActivities>({
      startToCloseTimeout: '2 minutes',
      scheduleToCloseTimeout: 7 * DAY,
      retry: { ...RETRY, maximumInterval: '5 minutes' },
    }),
    // A killed gpu worker is noticed by the missing heartbeat and the activity retried on
    // another; training restarts (it is deterministic), reindexing resumes after the last page.
    model: proxyActivities<GpuActivities>({
      taskQueue: input.gpuTaskQueue,
      startToCloseTimeout: '2 hours',
      scheduleToCloseTimeout: 6 * window,
      heartbeatTimeout: '20 seconds',
      retry: RETRY,
    }),
  };
}

/** Starts refreshSearchIndex for a head, outliving the round; never fails the round. */
async function startSearchIndexRefresh(headVersionId: string) {
  try {
    await startChild(refreshSearchIndex, {
      workflowId: `${SEARCH_INDEX_PREFIX}${headVersionId}`,
      taskQueue: workflowInfo().taskQueue,
      args: [{ headVersionId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (error) {
    if (isCancellation(error)) throw error;
    // Already started; or not startable now, and the maintenance pass starts it later.
    if ((error as Error).name !== 'WorkflowExecutionAlreadyStartedError') {
      log.warn('search index refresh not started', { error: (error as Error).message });
    }
  }
}

/**
 * One active-learning round (docs/architecture.md): score the pool with the active head, select the
 * least certain items within the budget, auto-accept confident predictions, wait for human
 * labels (signalled by the API; leases and a deadline return abandoned tasks to the pool),
 * retrain the head and reindex on the gpu queue, evaluate, and promote the new head unless it
 * is worse than the active one. Cancelling leaves no open tasks and no half-built vector set.
 */
export async function activeLearningRound(input: RoundInput): Promise<RoundResult> {
  const { db, scoring, closing, model } = roundActivities(input);
  const progress: RoundProgress = {
    roundId: null,
    number: null,
    phase: 'opening',
    asked: 0,
    evalAsked: 0,
    received: 0,
    expired: 0,
    autoAccepted: 0,
    autoThreshold: null,
    headVersionId: null,
    macroF1: null,
    promoted: null,
    openLabelIssues: null,
    note: null,
    phases: [],
  };
  const enter = (phase: RoundPhase) => {
    progress.phase = phase;
    progress.phases.push({ phase, startedAt: new Date().toISOString() });
  };
  let signals = 0;
  setHandler(roundProgress, () => progress);
  setHandler(labelSubmitted, () => {
    signals++;
  });
  enter('opening');
  const settings = await db.openRound({
    projectId: input.projectId,
    workflowId: workflowInfo().workflowId,
    campaignId: input.campaignId ?? null,
  });
  const roundId = settings.roundId;
  progress.roundId = roundId;
  progress.number = settings.number;
  const active = settings.activeHeadVersionId;
  const round = { id: roundId, number: settings.number };
  await emitWebhookEvent({
    projectId: input.projectId,
    event: 'ROUND_OPENED',
    key: `round-opened:${roundId}`,
    payload: { round },
  });
  try {
    if (active) {
      enter('scoring');
      await db.setRoundStatus({ roundId, status: 'SCORING' });
      await scoring.scorePool({ roundId, headVersionId: active, k: settings.k });
    }
    enter('selecting');
    await db.setRoundStatus({ roundId, status: 'SELECTING' });
    const opened = await db.openTasks({
      roundId,
      headVersionId: active,
      count: settings.roundSize,
      // A round that opened before projects had the setting replays without it.
      strategy: input.strategy ?? settings.selectionStrategy ?? 'typiclust-margin',
      seed: input.seed,
    });
    progress.asked = opened.asked;
    progress.evalAsked = opened.evalAsked;
    if (active && settings.autoAcceptEnabled) {
      enter('auto-accepting');
      // Votes on the whole pool again (with people's labels only), page by page: heartbeats.
      const auto = await scoring.autoAccept({
        roundId,
        headVersionId: active,
        k: settings.k,
        precisionTarget: settings.autoAcceptPrecisionTarget,
      });
      progress.autoAccepted = auto.accepted;
      progress.autoThreshold = auto.threshold;
      progress.note = auto.reason;
    }
    enter('labeling');
    await db.setRoundStatus({ roundId, status: 'LABELING' });
    const deadline = Date.now() + (input.labelingTimeoutMs ?? 7 * DAY);
    for (;;) {
      // Taken before the check, so a label signalled while the check runs still wakes us.
      const seen = signals;
      const counts = await db.checkTasks({ roundId });
      progress.received = counts.done;
      progress.expired = counts.expired;
      if (counts.open + counts.claimed === 0) break;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await condition(
        () => signals > seen,
        Math.min(remaining, input.leaseCheckIntervalMs ?? 30_000),
      );
    }
    await db.expireUnfinishedTasks({ roundId });
    enter('training');
    await db.setRoundStatus({ roundId, status: 'TRAINING' });
    const headVersionId = await model.trainRoundHead({ roundId, seed: input.seed });
    progress.headVersionId = headVersionId;
    enter('reindexing');
    await db.setRoundStatus({ roundId, status: 'REINDEXING' });
    await model.reindexHead({ headVersionId });
    enter('evaluating');
    await db.setRoundStatus({ roundId, status: 'EVALUATING' });
    const candidate = await db.evaluateHead({ roundId, headVersionId, k: settings.k, store: true });
    const current = active
      ? await db.evaluateHead({ roundId, headVersionId: active, k: settings.k, store: false })
      : null;
    progress.macroF1 = candidate.macroF1;
    const decision = await db.promoteHead({
      roundId,
      candidate,
      active: current,
      tolerance: settings.promotionTolerance,
    });
    progress.promoted = decision.promoted;
    progress.note = decision.reason;
    // The new head's pool index is built after the round (the previous one answers searches
    // meanwhile). Patched: a round that started before this step replays without it; the
    // maintenance pass builds what such rounds leave.
    if (decision.promoted && patched('search-index')) {
      await startSearchIndexRefresh(headVersionId);
    }
    // Patched: a round that started before the check existed replays without it.
    let flagged = 0;
    if (patched('label-check')) {
      enter('checking-labels');
      try {
        const check = await scoring.checkLabels({ roundId });
        progress.openLabelIssues = check.open;
        // Not check.opened: a retried check finds its own issues open and opens none.
        flagged = check.flagged;
      } catch (error) {
        if (isCancellation(error)) throw error;
        // Advisory: a check that cannot run leaves the round's head and labels as they are.
        progress.note = `${decision.reason}; label check failed: ${(error as Error).message}`;
      }
    }
    await closing.closeRound({ roundId, status: 'COMPLETED', note: decision.reason });
    if (decision.promoted) {
      await emitWebhookEvent({
        projectId: input.projectId,
        event: 'HEAD_PROMOTED',
        key: `head-promoted:${headVersionId}`,
        payload: { head: { id: headVersionId }, round, macroF1: candidate.macroF1 },
      });
    }
    await emitWebhookEvent({
      projectId: input.projectId,
      event: 'ROUND_COMPLETED',
      key: `round-completed:${roundId}`,
      payload: {
        round: {
          ...round,
          asked: progress.asked,
          received: progress.received,
          autoAccepted: progress.autoAccepted,
          macroF1: candidate.macroF1,
          promoted: decision.promoted,
          reason: decision.reason,
        },
      },
    });
    // Patched: a round that started before this event existed replays without it.
    if (flagged > 0 && patched('labels-flagged-event')) {
      await emitWebhookEvent({
        projectId: input.projectId,
        event: 'LABELS_FLAGGED',
        key: `labels-flagged:${roundId}`,
        payload: { round, flagged, openLabelIssues: progress.openLabelIssues },
      });
    }
    await emitWebhookEvent({
      projectId: input.projectId,
      event: 'BUDGET_LOW',
      key: 'budget-low',
      payload: { round },
    });
    enter('completed');
    return {
      roundId,
      number: settings.number,
      asked: progress.asked,
      evalAsked: progress.evalAsked,
      received: progress.received,
      autoAccepted: progress.autoAccepted,
      headVersionId,
      macroF1: candidate.macroF1,
      promoted: decision.promoted,
      reason: decision.reason,
    };
  } catch (error) {
    const cancelled = isCancellation(error);
    await CancellationScope.nonCancellable(() =>
      closing.closeRound({
        roundId,
        status: cancelled ? 'CANCELLED' : 'FAILED',
        note: cancelled ? 'cancelled' : (error as Error).message,
      }),
    );
    enter(cancelled ? 'cancelled' : 'failed');
    throw error;
  }
}
