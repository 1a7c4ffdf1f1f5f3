import type { Client } from '@temporalio/client';
import type { Database } from '@beanstalk/db';

/** Whether a workflow still runs; `unknown` when Temporal cannot say (then nothing is reaped). */
export async function workflowRunning(
  client: Client,
  workflowId: string,
): Promise<'running' | 'ended' | 'unknown'> {
  try {
    const { status } = await client.workflow.getHandle(workflowId).describe();
    return status.name === 'RUNNING' ? 'running' : 'ended';
  } catch (error) {
    return (error as Error).name === 'WorkflowNotFoundError' ? 'ended' : 'unknown';
  }
}

/**
 * Closes what a workflow left behind when it ended without closing it (terminated, its
 * history lost, or failed while the database was away): rounds are closed as FAILED (their
 * tasks expire and their budget is released), campaigns are marked FAILED. Rounds without a
 * workflow are left alone. Idempotent, so several workers may run it.
 */
export async function reapStrandedWork(deps: {
  db: Database;
  client: Client;
}): Promise<{ rounds: number; campaigns: number }> {
  let rounds = 0;
  for (const round of await deps.db.rounds.unfinished()) {
    if (!round.workflowId) continue;
    const state = await workflowRunning(deps.client, round.workflowId);
    if (state !== 'ended') continue;
    await deps.db.rounds.close(round.id, {
      status: 'FAILED',
      note: `its workflow ${round.workflowId} ended without closing the round`,
    });
    rounds++;
  }
  let campaigns = 0;
  for (const campaign of await deps.db.rounds.runningCampaigns()) {
    if ((await workflowRunning(deps.client, campaign.workflowId)) !== 'ended') continue;
    await deps.db.rounds.closeCampaign(campaign.id, {
      status: 'FAILED',
      reason: `its workflow ${campaign.workflowId} ended without closing the campaign`,
    });
    campaigns++;
  }
  return { rounds, campaigns };
}

/**
 * Starts an ingest for every project with items its encoder has not embedded yet (an import
 * that stored items while Temporal was away, or whose ingest was lost). An ingest already
 * running for a project is left to finish (the same workflow id).
 */
export async function resumeIngests(
  deps: { db: Database; client: Client },
  start: (projectId: string) => Promise<unknown>,
): Promise<number> {
  const projects = await deps.db.items.projectsAwaitingEmbedding();
  for (const projectId of projects) await start(projectId);
  return projects.length;
}
