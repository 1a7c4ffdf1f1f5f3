import type { Campaign, Round } from '@beanstalk/db';
import type { Context } from '../context.ts';
import type { SubscriptionResolvers } from '../generated/graphql.ts';
import { createLoaders } from '../loaders.ts';
import { budgetUpdates, campaignUpdates, roundUpdates } from '../live/streams.ts';
import { projectBySlug } from './access.ts';

/**
 * Each event is resolved with loaders of its own: a subscription's context lives as long as it
 * does, and its loaders would otherwise answer from what they cached for an earlier event.
 */
function fresh<T>(value: T, ctx: Context): T {
  ctx.loaders = createLoaders(ctx.db);
  return value;
}

/** Subscriptions: the caller's right to read the project is checked when one starts. */
export const subscriptions: SubscriptionResolvers = {
  roundUpdated: {
    async subscribe(_parent, { project: slug }, ctx) {
      const project = await projectBySlug(ctx, slug, 'read');
      return roundUpdates(ctx.live, ctx.db, project.id);
    },
    resolve: (round: Round | null, _args: unknown, ctx: Context) => fresh(round, ctx),
  },
  campaignUpdated: {
    async subscribe(_parent, { project: slug }, ctx) {
      const project = await projectBySlug(ctx, slug, 'read');
      return campaignUpdates(ctx.live, ctx.db, project.id);
    },
    resolve: (campaign: Campaign | null, _args: unknown, ctx: Context) => fresh(campaign, ctx),
  },
  budgetUpdated: {
    async subscribe(_parent, { project: slug }, ctx) {
      const project = await projectBySlug(ctx, slug, 'read');
      return budgetUpdates(ctx.live, project.id);
    },
    resolve: (budget: { projectId: string }, _args: unknown, ctx: Context) => fresh(budget, ctx),
  },
};
