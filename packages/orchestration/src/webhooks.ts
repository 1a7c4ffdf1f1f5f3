import type { Client } from '@temporalio/client';
import type { Database, NewEvent } from '@beanstalk/db';
import { deliverWebhook, WEBHOOK_DELIVERY_PREFIX } from '@beanstalk/workflows';
import { DEFAULT_QUEUES, type Queues } from './queues.ts';
import { startOnce } from './start-once.ts';

/** Starts the workflow that sends a delivery; one already sending it is left alone. */
export async function startWebhookDelivery(
  client: Client,
  deliveryId: string,
  queues: Queues = DEFAULT_QUEUES,
): Promise<void> {
  await startOnce(client, deliverWebhook, {
    taskQueue: queues.orchestration,
    workflowId: `${WEBHOOK_DELIVERY_PREFIX}${deliveryId}`,
    args: [{ deliveryId }],
  });
}

/**
 * An event that happens outside a workflow (a rollback, a test ping): its deliveries are
 * written first, then sent. If Temporal is away the rows wait for the maintenance pass
 * (`resumeWebhookDeliveries`), so the event is not lost.
 */
export async function emitWebhookEvent(
  deps: { db: Database; client: () => Promise<Client> },
  event: NewEvent,
  queues: Queues = DEFAULT_QUEUES,
): Promise<string[]> {
  const ids = await deps.db.webhooks.enqueue(event);
  if (ids.length === 0) return ids;
  try {
    const client = await deps.client();
    for (const id of ids) await startWebhookDelivery(client, id, queues);
  } catch (error) {
    console.warn(
      `webhooks: ${ids.length} delivery(ies) wait for Temporal: ${(error as Error).message}`,
    );
  }
  return ids;
}

/**
 * Starts senders for deliveries still PENDING `minAgeMs` after they were written (their
 * emitter could not start one); run by the orchestration worker's maintenance pass.
 */
export async function resumeWebhookDeliveries(
  deps: { db: Database; client: Client },
  options: { minAgeMs?: number; queues?: Queues } = {},
): Promise<number> {
  const ids = await deps.db.webhooks.stalePending(
    new Date(Date.now() - (options.minAgeMs ?? 120_000)),
    500,
  );
  for (const id of ids) await startWebhookDelivery(deps.client, id, options.queues);
  return ids.length;
}
