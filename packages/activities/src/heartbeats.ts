import { Context, heartbeat } from '@temporalio/activity';

/** Where a retried activity left off: the details of its last heartbeat. */
export function resumePoint<T>(): T | undefined {
  return Context.current().info.heartbeatDetails as T | undefined;
}

/**
 * Runs one long step that cannot report progress itself (an index build), heartbeating every
 * few seconds meanwhile so the server does not take the worker for dead.
 */
export async function heartbeatingThrough<T>(
  details: unknown,
  fn: () => Promise<T>,
  everyMs = 5000,
): Promise<T> {
  heartbeat(details);
  const timer = setInterval(() => heartbeat(details), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
