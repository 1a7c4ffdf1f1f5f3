import type { WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

/** A workflow's running activity and its last heartbeat, as people are shown it. */
export interface RunningActivity {
  name: string;
  /** started: a worker is running it; scheduled: waiting for one. */
  state: 'scheduled' | 'started' | 'other';
  attempt: number;
  details: unknown;
  /** Why the previous attempt failed (a worker that went silent, an error), if it did. */
  lastFailure: string | null;
}

export function runningActivity(description: WorkflowExecutionDescription): RunningActivity | null {
  const pending = description.raw.pendingActivities?.[0];
  if (!pending) return null;
  const payload = pending.heartbeatDetails?.payloads?.[0];
  return {
    name: pending.activityType?.name ?? 'unknown',
    state: ({ 1: 'scheduled', 2: 'started' } as const)[Number(pending.state) as 1 | 2] ?? 'other',
    attempt: pending.attempt ?? 1,
    details: payload ? defaultPayloadConverter.fromPayload(payload) : null,
    lastFailure: pending.lastFailure?.message ?? null,
  };
}
