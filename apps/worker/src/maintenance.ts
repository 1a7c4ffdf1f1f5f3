import type { Client } from '@temporalio/client';
import type { Database } from '@beanstalk/db';
import {
  reapStrandedWork,
  resumeIngests,
  resumeSearchIndexes,
  resumeWebhookDeliveries,
  startIngest,
  type Queues,
} from '@beanstalk/orchestration';

/**
 * What an orchestration worker checks now and then, so nothing waits for a person after an
 * outage: rounds and campaigns whose workflow ended without closing them are closed (tasks
 * expired, budget released), items stored while Temporal was away get their ingest, webhook
 * deliveries written while it was away get their sender, active heads whose search index
 * was never built get it, and expired sign-in sessions are deleted.
 */
export async function runMaintenance(deps: { db: Database; client: Client; queues: Queues }) {
  const reaped = await reapStrandedWork(deps);
  const ingests = await resumeIngests(deps, (projectId) =>
    startIngest(deps.client, projectId, deps.queues),
  );
  const webhooks = await resumeWebhookDeliveries(deps, { queues: deps.queues });
  const searchIndexes = await resumeSearchIndexes(deps, { queues: deps.queues });
  const sessions = await deps.db.users.purgeExpiredSessions();
  return { ...reaped, ingests, webhooks, searchIndexes, sessions };
}

/** Runs `runMaintenance` every `intervalMs` until stopped; a failed pass is logged, not fatal. */
export function startMaintenance(
  deps: { db: Database; client: Client; queues: Queues },
  intervalMs: number,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runMaintenance(deps)
      .then((done) => {
        if (
          done.rounds ||
          done.campaigns ||
          done.ingests ||
          done.sessions ||
          done.webhooks ||
          done.searchIndexes
        ) {
          console.log(
            `maintenance: closed ${done.rounds} stranded round(s) and ${done.campaigns} campaign(s), started ${done.ingests} ingest(s), checked ${done.webhooks} waiting webhook delivery(ies), started ${done.searchIndexes} search index build(s), purged ${done.sessions} expired session(s)`,
          );
        }
      })
      .catch((error: Error) => console.warn(`maintenance skipped: ${error.message}`))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
