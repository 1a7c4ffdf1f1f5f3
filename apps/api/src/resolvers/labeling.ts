import { skipLabelTask, submitLabel } from '@beanstalk/orchestration';
import { actor, requirePerson } from '../auth/permissions.ts';
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
    const annotatorId = requirePerson(ctx.viewer);
    const project = await projectBySlug(ctx, slug, 'label');
    return ctx.db.tasks.claimNext({
      projectId: project.id,
      annotatorId,
      leaseSeconds: project.taskLeaseSeconds,
    });
  },
  async submitLabel(_parent, { taskId, labelClassId, alsoItemIds }, ctx) {
    const annotatorId = requirePerson(ctx.viewer);
    return submitLabel(ctx, {
      taskId,
      labelClassId,
      annotatorId,
      alsoItemIds: alsoItemIds ?? [],
      // Checked on the locked task row, before anything is written.
      authorize: (projectId) => checkOwned(ctx, projectId, `task ${taskId}`, 'label'),
    });
  },
  async skipTask(_parent, { taskId }, ctx) {
    const annotatorId = requirePerson(ctx.viewer);
    await owned(ctx, await ctx.db.tasks.byId(taskId), `task ${taskId}`, 'label');
    return skipLabelTask(ctx, { taskId, annotatorId });
  },
  async relabel(_parent, { itemId, labelClassId, reason }, ctx) {
    const item = await owned(ctx, await ctx.loaders.item.load(itemId), `item ${itemId}`, 'relabel');
    return ctx.db.labels.relabel({
      projectId: item.projectId,
      itemId,
      labelClassId,
      ...actor(ctx.viewer),
      reason,
    });
  },
  async revertAutoLabel(_parent, { itemId, reason }, ctx) {
    const item = await owned(ctx, await ctx.loaders.item.load(itemId), `item ${itemId}`, 'manage');
    return ctx.db.labels.revertAuto({
      projectId: item.projectId,
      itemId,
      ...actor(ctx.viewer),
      reason,
    });
  },
  async bulkRevertAutoLabels(_parent, { roundId, reason }, ctx) {
    await owned(ctx, await ctx.loaders.round.load(roundId), `round ${roundId}`, 'manage');
    return ctx.db.labels.revertAutoOfRound({
      roundId,
      ...actor(ctx.viewer),
      reason,
    });
  },
};
