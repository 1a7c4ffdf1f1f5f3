import { ApplicationFailure } from '@temporalio/common';
import type { WebhookEvent } from '@beanstalk/db';
import type { ActivityDeps } from './deps.ts';
import { heartbeatingThrough } from './heartbeats.ts';
import { postWebhook, signature, WebhookRefused } from './webhook-http.ts';

/** An event a workflow tells a project's webhook endpoints about. */
export interface WebhookEventInput {
  projectId: string;
  event: WebhookEvent;
  /** What happened, uniquely (e.g. `round-completed:<round id>`): emitted twice, sent once. */
  key: string;
  payload: Record<string, unknown>;
}

/** `ROUND_COMPLETED` → `round.completed`: the `type` receivers see. */
export const eventType = (event: WebhookEvent) => event.toLowerCase().replace('_', '.');

/** Writing deliveries, sending them (one attempt per call), and giving them up. */
export function createWebhookActivities({ db, config }: ActivityDeps) {
  return {
    /**
     * Writes the event's deliveries and returns their ids. BUDGET_LOW reads the budget here:
     * endpoints whose level is above what remains get it, once per ledger total (so again
     * after budget is added and spent down).
     */
    async enqueueWebhookEvent(event: WebhookEventInput): Promise<string[]> {
      if (event.event !== 'BUDGET_LOW') return db.webhooks.enqueue(event);
      const budget = await db.budget.of(event.projectId);
      return db.webhooks.enqueue({
        ...event,
        key: `${event.key}:total-${budget.total}`,
        payload: { ...event.payload, budget },
        remaining: budget.remaining,
      });
    },

    /**
     * One attempt: POSTs the signed event; a 2xx answer marks it delivered. Anything else is
     * recorded and thrown, so the workflow's retry policy tries again later. Sent again after
     * a worker dies mid-attempt (at least once); `Idempotency-Key` lets receivers drop repeats.
     */
    async sendWebhook(input: { deliveryId: string }): Promise<void> {
      const delivery = await db.webhooks.toSend(input.deliveryId);
      if (!delivery || delivery.status !== 'PENDING') return;
      if (!delivery.endpointActive) {
        await db.webhooks.markFailed(delivery.id, 'the endpoint was disabled');
        return;
      }
      const project = await db.projects.get(delivery.projectId);
      const body = JSON.stringify({
        id: delivery.eventId,
        type: eventType(delivery.event),
        createdAt: delivery.createdAt.toISOString(),
        project: { id: project.id, slug: project.slug },
        data: delivery.payload,
      });
      const timestamp = Math.floor(Date.now() / 1000);
      let outcome: { delivered: boolean; statusCode: number | null; error: string | null };
      try {
        // Heartbeats while the receiver takes its time, so a worker that dies mid-request is
        // noticed in seconds (the heartbeat timeout), not after the whole attempt's timeout.
        const post = () =>
          postWebhook({
            url: delivery.url,
            body,
            timeoutMs: config.webhooks.timeoutMs,
            allowPrivate: config.webhooks.allowPrivateAddresses,
            headers: {
              'beanstalk-event': eventType(delivery.event),
              'beanstalk-delivery': delivery.id,
              'idempotency-key': delivery.eventId,
              'beanstalk-signature': signature(delivery.secret, timestamp, body),
            },
          });
        const response = await heartbeatingThrough(null, post, 1000);
        const delivered = response.status >= 200 && response.status < 300;
        outcome = {
          delivered,
          statusCode: response.status,
          error: delivered ? null : response.body.slice(0, 200) || `HTTP ${response.status}`,
        };
      } catch (error) {
        outcome = { delivered: false, statusCode: null, error: (error as Error).message };
        if (error instanceof WebhookRefused) {
          await db.webhooks.recordAttempt(delivery.id, outcome);
          // The address will not become public by waiting.
          throw ApplicationFailure.nonRetryable(outcome.error!, 'WebhookRefused');
        }
      }
      await db.webhooks.recordAttempt(delivery.id, outcome);
      if (!outcome.delivered) {
        throw ApplicationFailure.retryable(
          `${delivery.url}: ${outcome.statusCode ?? outcome.error}`,
          'WebhookNotDelivered',
        );
      }
    },

    async markWebhookFailed(input: { deliveryId: string; reason: string }): Promise<void> {
      await db.webhooks.markFailed(input.deliveryId, input.reason);
    },
  };
}
