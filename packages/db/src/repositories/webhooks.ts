import { randomBytes } from 'node:crypto';
import { AppError } from '@beanstalk/shared';
import type {
  PrismaClient,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEvent,
} from '../generated/prisma/client.ts';
import type { Queryable } from '../queryable.ts';
import { asModel } from '../queryable.ts';

/** Most endpoints per project: each event fans out to all of them. */
export const MAX_ENDPOINTS_PER_PROJECT = 20;

export interface NewEvent {
  projectId: string;
  event: WebhookEvent;
  /** Identifies what happened: the same key again (an emitter's retry) adds nothing. */
  key: string;
  payload: Record<string, unknown>;
  /** Only for BUDGET_LOW: the remaining budget, compared with each endpoint's level. */
  remaining?: number;
}

/** A delivery with what sending it needs. */
export interface DeliveryToSend extends WebhookDelivery {
  projectId: string;
  url: string;
  secret: string;
  endpointActive: boolean;
}

/** Webhook endpoints of projects and the log of their deliveries. */
export class WebhookRepository {
  constructor(
    private readonly db: Queryable,
    private readonly prisma: PrismaClient,
  ) {}

  async create(input: {
    projectId: string;
    url: string;
    description: string;
    events: WebhookEvent[];
    budgetBelow: number | null;
    createdById: string | null;
  }): Promise<WebhookEndpoint> {
    const count = await this.prisma.webhookEndpoint.count({
      where: { projectId: input.projectId },
    });
    if (count >= MAX_ENDPOINTS_PER_PROJECT) {
      throw new AppError(
        'BAD_USER_INPUT',
        `a project has at most ${MAX_ENDPOINTS_PER_PROJECT} webhook endpoints; delete one first`,
      );
    }
    // 256 random bits, shown once: the receiver verifies signatures with it.
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    return this.prisma.webhookEndpoint.create({ data: { ...input, secret } });
  }

  async update(
    id: string,
    input: {
      url?: string;
      description?: string;
      events?: WebhookEvent[];
      budgetBelow?: number | null;
      active?: boolean;
    },
  ): Promise<WebhookEndpoint> {
    return this.prisma.webhookEndpoint.update({ where: { id }, data: input });
  }

  async delete(id: string): Promise<void> {
    await this.prisma.webhookEndpoint.delete({ where: { id } });
  }

  async endpoint(id: string): Promise<WebhookEndpoint | null> {
    return this.prisma.webhookEndpoint.findUnique({ where: { id } });
  }

  async ofProject(projectId: string): Promise<WebhookEndpoint[]> {
    return this.prisma.webhookEndpoint.findMany({
      where: { projectId },
      orderBy: { createdAt: 'asc' },
    });
  }

  /**
   * Writes one PENDING delivery per active endpoint of the project that wants the event (for
   * BUDGET_LOW: whose level is above `remaining`), once per event key; returns the ids of the
   * deliveries of this key, new or already there, for a workflow to send.
   */
  async enqueue(event: NewEvent): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `WITH wanted AS (
         SELECT id FROM webhook_endpoints
          WHERE project_id = $1 AND active AND $2::text::"WebhookEvent" = ANY(events)
            AND ($2::text <> 'BUDGET_LOW' OR (budget_below IS NOT NULL AND $5::int < budget_below))
       ), inserted AS (
         INSERT INTO webhook_deliveries (endpoint_id, event, event_key, payload)
         SELECT id, $2::text::"WebhookEvent", $3, $4::jsonb FROM wanted
         ON CONFLICT (endpoint_id, event_key) DO NOTHING
         RETURNING id, status
       )
       SELECT id FROM inserted
        UNION
       SELECT d.id FROM webhook_deliveries d JOIN wanted w ON w.id = d.endpoint_id
        WHERE d.event_key = $3 AND d.status = 'PENDING'`,
      [
        event.projectId,
        event.event,
        event.key,
        JSON.stringify(event.payload),
        event.remaining ?? null,
      ],
    );
    return rows.map((r) => r.id);
  }

  /** A PING delivery to one endpoint (whatever events it chose). */
  async ping(endpointId: string): Promise<WebhookDelivery> {
    const { rows } = await this.db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event, event_key, payload)
       VALUES ($1, 'PING', 'ping:' || gen_random_uuid(), '{"message":"ping"}'::jsonb)
       RETURNING *`,
      [endpointId],
    );
    return asModel<WebhookDelivery>(rows[0])!;
  }

  /** A new delivery of an earlier one's event (same event id and payload), for a person's retry. */
  async redeliver(deliveryId: string): Promise<WebhookDelivery> {
    const { rows } = await this.db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event, event_key, event_id, payload, redelivery_of)
       SELECT endpoint_id, event, event_key || '#redelivery-' || gen_random_uuid(), event_id,
              payload, id
         FROM webhook_deliveries WHERE id = $1
       RETURNING *`,
      [deliveryId],
    );
    const row = asModel<WebhookDelivery>(rows[0]);
    if (!row) throw new AppError('NOT_FOUND', `webhook delivery ${deliveryId} does not exist`);
    return row;
  }

  async delivery(id: string): Promise<WebhookDelivery | null> {
    return this.prisma.webhookDelivery.findUnique({ where: { id } });
  }

  async toSend(id: string): Promise<DeliveryToSend | null> {
    const row = await this.prisma.webhookDelivery.findUnique({
      where: { id },
      include: { endpoint: { select: { url: true, secret: true, active: true, projectId: true } } },
    });
    if (!row) return null;
    const { endpoint, ...delivery } = row;
    return {
      ...delivery,
      projectId: endpoint.projectId,
      url: endpoint.url,
      secret: endpoint.secret,
      endpointActive: endpoint.active,
    };
  }

  /** Newest first. */
  async deliveries(input: {
    endpointId: string;
    first: number;
    status?: 'PENDING' | 'DELIVERED' | 'FAILED' | null;
  }): Promise<WebhookDelivery[]> {
    return this.prisma.webhookDelivery.findMany({
      where: { endpointId: input.endpointId, ...(input.status ? { status: input.status } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: input.first,
    });
  }

  /** Records one attempt's outcome; a delivered row stays delivered. */
  async recordAttempt(
    id: string,
    outcome: { delivered: boolean; statusCode: number | null; error: string | null },
  ): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1, last_attempt_at = now(),
              last_status_code = $2, last_error = $3,
              status = CASE WHEN $4 THEN 'DELIVERED'::"DeliveryStatus" ELSE status END,
              delivered_at = CASE WHEN $4 THEN now() ELSE delivered_at END
        WHERE id = $1 AND status <> 'DELIVERED'`,
      [id, outcome.statusCode, outcome.error?.slice(0, 1000) ?? null, outcome.delivered],
    );
  }

  /** Gives a delivery up (its retries ran out, or its endpoint went away). */
  async markFailed(id: string, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'FAILED',
              last_error = coalesce(last_error, $2)
        WHERE id = $1 AND status = 'PENDING'`,
      [id, reason.slice(0, 1000)],
    );
  }

  /** PENDING deliveries created before `olderThan` (a sender may never have started). */
  async stalePending(olderThan: Date, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM webhook_deliveries WHERE status = 'PENDING' AND created_at < $1
        ORDER BY created_at LIMIT $2`,
      [olderThan, limit],
    );
    return rows.map((r) => r.id);
  }
}
