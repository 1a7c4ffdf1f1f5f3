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
 * was never built get it, vector sets of retired heads beyond the `keepRetiredSets` newest
 * per project are dropped, and expired sign-in sessions are deleted.
 */
export async function runMaintenance(deps: MaintenanceDeps) {
  const reaped = await reapStrandedWork(deps);
  const ingests = await resumeIngests(deps, (projectId) =>
    startIngest(deps.client, projectId, deps.queues),
  );
  const webhooks = await resumeWebhookDeliveries(deps, { queues: deps.queues });
  const searchIndexes = await resumeSearchIndexes(deps, { queues: deps.queues });
  const retiredSets = await dropRetiredSets(deps.db, deps.keepRetiredSets);
  const sessions = await deps.db.users.purgeExpiredSessions();
  return { ...reaped, ingests, webhooks, searchIndexes, retiredSets, sessions };
}

interface MaintenanceDeps {
  db: Database;
  client: Client;
  queues: Queues;
  keepRetiredSets: number;
}

/** Drops the sets retention lets go; one whose locks are busy waits for the next pass. */
async function dropRetiredSets(db: Database, keep: number): Promise<number> {
  let dropped = 0;
  for (const id of await db.vectorSets.retiredBeyond(keep)) {
    if (await db.vectorSets.dropRetired(id)) dropped++;
  }
  return dropped;
}

/** Runs `runMaintenance` every `intervalMs` until stopped; a failed pass is logged, not fatal. */
export function startMaintenance(deps: MaintenanceDeps, intervalMs: number): () => void {
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
          done.searchIndexes ||
          done.retiredSets
        ) {
          console.log(
            `maintenance: closed ${done.rounds} stranded round(s) and ${done.campaigns} campaign(s), started ${done.ingests} ingest(s), checked ${done.webhooks} waiting webhook delivery(ies), started ${done.searchIndexes} search index build(s), dropped ${done.retiredSets} retired vector set(s), purged ${done.sessions} expired session(s)`,
          );
        }
      })
      .catch((error: Error) => console.warn(`maintenance skipped: ${error.message}`))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
