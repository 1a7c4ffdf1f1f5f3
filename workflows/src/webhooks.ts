import {
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrchestrationActivities, WebhookEventInput } from '@beanstalk/activities';
import { WEBHOOK_DELIVERY_PREFIX } from './definitions.ts';

const enqueue = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/**
 * Sending: retried with exponential backoff (1 s, 2 s, 4 s … at most 10 minutes apart) for a
 * day, so a receiver that is down for a while gets the event when it is back; each attempt
 * is in the delivery log.
 */
const sending = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', maximumInterval: '10 minutes', backoffCoefficient: 2 },
});

/**
 * Sends one delivery (at least once: a worker that dies after the receiver answered sends it
 * again, with the same Idempotency-Key) and records the outcome; gives up after a day.
 */
export async function deliverWebhook(input: { deliveryId: string }): Promise<boolean> {
  try {
    await sending.sendWebhook(input);
    return true;
  } catch (error) {
    await enqueue.markWebhookFailed({
      deliveryId: input.deliveryId,
      reason: `gave up: ${(error as Error).message}`,
    });
    return false;
  }
}

/**
 * Tells a project's webhook endpoints about an event, from inside a workflow: the deliveries
 * are written (once per event key), then each gets a deliverWebhook workflow that outlives
 * this one. Never fails its caller: a round does not fail because a receiver is down.
 */
export async function emitWebhookEvent(event: WebhookEventInput): Promise<void> {
  // Rounds, campaigns and ingests that started before webhooks existed replay without these
  // steps, as they were recorded.
  if (!patched('webhook-events')) return;
  try {
    const ids = await enqueue.enqueueWebhookEvent(event);
    for (const deliveryId of ids) {
      try {
        await startChild(deliverWebhook, {
          workflowId: `${WEBHOOK_DELIVERY_PREFIX}${deliveryId}`,
          taskQueue: workflowInfo().taskQueue,
          args: [{ deliveryId }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch (error) {
        // Already sending (an earlier start, or the maintenance sweep).
        if ((error as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw error;
      }
    }
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('webhook event not sent', { event: event.event, error: (error as Error).message });
  }
}
