import { skipLabelTask, submitLabel } from '@beanstalk/orchestration';
import { actorId } from '../auth/permissions.ts';
import type { LabelTaskResolvers, MutationResolvers } from '../generated/graphql.ts';
import { checkOwned, iso, owned, projectBySlug } from './access.ts';

export const LabelTask: LabelTaskResolvers = {
  item: async (task, _args, { loaders }) => (await loaders.item.load(task.itemId))!,
  roundNumber: async (task, _args, { loaders }) => (await loaders.round.load(task.roundId))!.number,
  leaseExpiresAt: (task) => iso(task.leaseExpiresAt),
};

export const labelingMutations: Pick<
  MutationResolvers,
  | 'claimNextTask'
  | 'submitLabel'
  | 'skipTask'
  | 'relabel'
  | 'revertAutoLabel'
  | 'bulkRevertAutoLabels'
> = {
  async claimNextTask(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'label');
    return ctx.db.tasks.claimNext({
      projectId: project.id,
      annotatorId: actorId(ctx.viewer),
      leaseSeconds: project.taskLeaseSeconds,
    });
  },
  async submitLabel(_parent, { taskId, labelClassId, alsoItemIds }, ctx) {
    return submitLabel(ctx, {
      taskId,
      labelClassId,
      annotatorId: actorId(ctx.viewer),
      alsoItemIds: alsoItemIds ?? [],
      // Checked on the locked task row, before anything is written.
      authorize: (projectId) => checkOwned(ctx, projectId, `task ${taskId}`, 'label'),
    });
  },
  async skipTask(_parent, { taskId }, ctx) {
    await owned(ctx, await ctx.db.tasks.byId(taskId), `task ${taskId}`, 'label');
    return skipLabelTask(ctx, { taskId, annotatorId: actorId(ctx.viewer) });
  },
  async relabel(_parent, { itemId, labelClassId, reason }, ctx) {
    const item = await owned(ctx, await ctx.loaders.item.load(itemId), `item ${itemId}`, 'relabel');
    return ctx.db.labels.relabel({
      projectId: item.projectId,
      itemId,
      labelClassId,
      annotatorId: actorId(ctx.viewer),
      reason,
    });
  },
  async revertAutoLabel(_parent, { itemId, reason }, ctx) {
    const item = await owned(ctx, await ctx.loaders.item.load(itemId), `item ${itemId}`, 'manage');
    return ctx.db.labels.revertAuto({
      projectId: item.projectId,
      itemId,
      annotatorId: actorId(ctx.viewer),
      reason,
    });
  },
  async bulkRevertAutoLabels(_parent, { roundId, reason }, ctx) {
    await owned(ctx, await ctx.loaders.round.load(roundId), `round ${roundId}`, 'manage');
    return ctx.db.labels.revertAutoOfRound({
      roundId,
      annotatorId: actorId(ctx.viewer),
      reason,
    });
  },
};
