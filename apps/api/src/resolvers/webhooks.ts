import { checkWebhookUrl, WebhookRefused } from '@beanstalk/activities';
import type { NewEvent, WebhookEndpoint as EndpointRow } from '@beanstalk/db';
import { emitWebhookEvent, startWebhookDelivery } from '@beanstalk/orchestration';
import { AppError } from '@beanstalk/shared';
import type { Context } from '../context.ts';
import type {
  MutationResolvers,
  QueryResolvers,
  WebhookDeliveryResolvers,
  WebhookEndpointInput,
  WebhookEndpointResolvers,
} from '../generated/graphql.ts';
import { actorId } from '../auth/permissions.ts';
import { iso, owned, projectBySlug } from './access.ts';

/** Most deliveries one `deliveries` field returns. */
const MAX_DELIVERIES = 200;

/** A manager's input, checked: a URL the server may send to, events, a budget level. */
function checked(ctx: Context, input: WebhookEndpointInput) {
  const url = input.url.trim();
  if (url.length > 2000) throw new AppError('BAD_USER_INPUT', 'the URL is over 2000 characters');
  try {
    checkWebhookUrl(url, ctx.config.webhooks.allowPrivateAddresses);
  } catch (error) {
    if (!(error instanceof WebhookRefused)) throw error;
    throw new AppError('BAD_USER_INPUT', `url: ${error.message}`, { field: 'url' });
  }
  const events = [...new Set(input.events)];
  if (events.length === 0) {
    throw new AppError('BAD_USER_INPUT', 'choose at least one event', { field: 'events' });
  }
  const budgetBelow = input.budgetBelow ?? null;
  if (budgetBelow !== null && (budgetBelow < 1 || budgetBelow > 10_000_000)) {
    throw new AppError('BAD_USER_INPUT', 'budgetBelow must be 1..10000000', {
      field: 'budgetBelow',
    });
  }
  if (events.includes('BUDGET_LOW') && budgetBelow === null) {
    throw new AppError('BAD_USER_INPUT', 'BUDGET_LOW needs budgetBelow: the level to warn at', {
      field: 'budgetBelow',
    });
  }
  const description = (input.description ?? '').trim();
  if (description.length > 500) {
    throw new AppError('BAD_USER_INPUT', 'the description is over 500 characters');
  }
  return { url, events, budgetBelow, description, active: input.active ?? true };
}

async function endpointFor(ctx: Context, id: string): Promise<EndpointRow> {
  return owned(ctx, await ctx.db.webhooks.endpoint(id), `webhook endpoint ${id}`, 'manage');
}

/** Writes the event's deliveries and starts their senders (the API's events). */
export function emitFromApi(ctx: Context, event: NewEvent) {
  return emitWebhookEvent({ db: ctx.db, client: ctx.temporal }, event, ctx.queues);
}

export const WebhookEndpoint: WebhookEndpointResolvers = {
  createdAt: (e) => iso(e.createdAt)!,
  deliveries: (e, { first, status }, ctx) => {
    const n = first ?? 20;
    if (!Number.isInteger(n) || n < 1 || n > MAX_DELIVERIES) {
      throw new AppError('BAD_USER_INPUT', `first must be 1..${MAX_DELIVERIES}`);
    }
    return ctx.db.webhooks.deliveries({ endpointId: e.id, first: n, status });
  },
};

export const WebhookDelivery: WebhookDeliveryResolvers = {
  payload: (d) => JSON.stringify(d.payload),
  createdAt: (d) => iso(d.createdAt)!,
  lastAttemptAt: (d) => iso(d.lastAttemptAt),
  deliveredAt: (d) => iso(d.deliveredAt),
};

export const webhookQueries: Pick<QueryResolvers, 'webhookEndpoints'> = {
  async webhookEndpoints(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    return ctx.db.webhooks.ofProject(project.id);
  },
};

export const webhookMutations: Pick<
  MutationResolvers,
  | 'createWebhookEndpoint'
  | 'updateWebhookEndpoint'
  | 'deleteWebhookEndpoint'
  | 'pingWebhookEndpoint'
  | 'redeliverWebhook'
> = {
  async createWebhookEndpoint(_parent, { project: slug, input }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    const { active, ...fields } = checked(ctx, input);
    const endpoint = await ctx.db.webhooks.create({
      projectId: project.id,
      ...fields,
      createdById: actorId(ctx.viewer),
    });
    const updated = active ? endpoint : await ctx.db.webhooks.update(endpoint.id, { active });
    return { endpoint: updated, secret: endpoint.secret };
  },
  async updateWebhookEndpoint(_parent, { id, input }, ctx) {
    const endpoint = await endpointFor(ctx, id);
    return ctx.db.webhooks.update(endpoint.id, checked(ctx, input));
  },
  async deleteWebhookEndpoint(_parent, { id }, ctx) {
    const endpoint = await endpointFor(ctx, id);
    await ctx.db.webhooks.delete(endpoint.id);
    return true;
  },
  async pingWebhookEndpoint(_parent, { id }, ctx) {
    const endpoint = await endpointFor(ctx, id);
    // The ping goes to this endpoint only, whatever events it chose.
    const delivery = await ctx.db.webhooks.ping(endpoint.id);
    await startWebhookDelivery(await ctx.temporal(), delivery.id, ctx.queues);
    return delivery;
  },
  async redeliverWebhook(_parent, { id }, ctx) {
    const original = await ctx.db.webhooks.delivery(id);
    const endpoint = original ? await ctx.db.webhooks.endpoint(original.endpointId) : null;
    await owned(ctx, endpoint, `webhook delivery ${id}`, 'manage');
    const delivery = await ctx.db.webhooks.redeliver(id);
    await startWebhookDelivery(await ctx.temporal(), delivery.id, ctx.queues);
    return delivery;
  },
};
