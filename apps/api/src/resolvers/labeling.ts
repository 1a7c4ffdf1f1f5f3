import { appendLabel, claimNextTask, currentLabels, revertAutoLabels } from '@beanstalk/db';
import { skipLabelTask, submitLabel } from '@beanstalk/orchestration';
import { AppError } from '@beanstalk/shared';
import { actorId } from '../auth/permissions.ts';
import type { Context } from '../context.ts';
import type { LabelTaskResolvers, MutationResolvers } from '../generated/graphql.ts';
import { iso, owned, projectBySlug } from './access.ts';

export const LabelTask: LabelTaskResolvers = {
  item: async (task, _args, { loaders }) => (await loaders.item.load(task.itemId))!,
  roundNumber: async (task, _args, { loaders }) => (await loaders.round.load(task.roundId))!.number,
  leaseExpiresAt: (task) => iso(task.leaseExpiresAt),
};

async function taskFor(ctx: Context, taskId: string) {
  const task = await ctx.prisma.labelTask.findUnique({ where: { id: taskId } }).catch(() => null);
  return owned(ctx, task, `task ${taskId}`, 'label');
}

/** A class of the item's project that still takes labels. */
async function usableClass(ctx: Context, projectId: string, labelClassId: string) {
  const found = await ctx.loaders.labelClass.load(labelClassId).catch(() => null);
  if (!found || found.projectId !== projectId) {
    throw new AppError('BAD_USER_INPUT', `class ${labelClassId} is not a class of this project`);
  }
  if (found.retiredAt) throw new AppError('BAD_USER_INPUT', `class ${found.name} is retired`);
  return found;
}

/** An item's current label (the head of its history), or null. */
async function currentLabel(ctx: Context, itemId: string) {
  return (await currentLabels(ctx.pool, [itemId])).get(itemId) ?? null;
}

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
    const claimed = await claimNextTask(ctx.pool, {
      projectId: project.id,
      annotatorId: actorId(ctx.viewer),
      leaseSeconds: project.taskLeaseSeconds,
    });
    return claimed ? ctx.prisma.labelTask.findUniqueOrThrow({ where: { id: claimed.id } }) : null;
  },
  async submitLabel(_parent, { taskId, labelClassId }, ctx) {
    const task = await taskFor(ctx, taskId);
    await usableClass(ctx, task.projectId, labelClassId);
    const stored = await submitLabel(
      { pool: ctx.pool, client: await ctx.temporal() },
      { taskId, labelClassId, annotatorId: actorId(ctx.viewer) },
    );
    const [label, done] = await Promise.all([
      ctx.prisma.label.findUniqueOrThrow({ where: { id: stored.labelId } }),
      ctx.prisma.labelTask.findUniqueOrThrow({ where: { id: taskId } }),
    ]);
    return { label, task: done, duplicate: stored.duplicate };
  },
  async skipTask(_parent, { taskId }, ctx) {
    await taskFor(ctx, taskId);
    await skipLabelTask(
      { pool: ctx.pool, client: await ctx.temporal() },
      { taskId, annotatorId: actorId(ctx.viewer) },
    );
    return ctx.prisma.labelTask.findUniqueOrThrow({ where: { id: taskId } });
  },
  async relabel(_parent, { itemId, labelClassId, reason }, ctx) {
    const item = await owned(
      ctx,
      await ctx.loaders.item.load(itemId).catch(() => null),
      `item ${itemId}`,
      'relabel',
    );
    await usableClass(ctx, item.projectId, labelClassId);
    if (!reason.trim()) throw new AppError('BAD_USER_INPUT', 'say why the label changes (reason)');
    const current = await currentLabel(ctx, itemId);
    if (current?.labelClassId === labelClassId && current.source === 'HUMAN') {
      throw new AppError('CONFLICT', 'the item already has this label from a person');
    }
    const id = await appendLabel(ctx.pool, {
      projectId: item.projectId,
      itemId,
      labelClassId,
      source: 'HUMAN',
      annotatorId: actorId(ctx.viewer),
      reason,
      supersedesId: current?.id ?? null,
    });
    return ctx.prisma.label.findUniqueOrThrow({ where: { id } });
  },
  async revertAutoLabel(_parent, { itemId, reason }, ctx) {
    const item = await owned(
      ctx,
      await ctx.loaders.item.load(itemId).catch(() => null),
      `item ${itemId}`,
      'manage',
    );
    const current = await currentLabel(ctx, itemId);
    if (!current || current.source !== 'AUTO' || !current.labelClassId) {
      throw new AppError('CONFLICT', "the item's current label is not an auto label");
    }
    const id = await appendLabel(ctx.pool, {
      projectId: item.projectId,
      itemId,
      labelClassId: null,
      source: 'AUTO',
      annotatorId: actorId(ctx.viewer),
      roundId: current.roundId,
      reason: reason ?? 'auto label reverted',
      supersedesId: current.id,
    });
    return ctx.prisma.label.findUniqueOrThrow({ where: { id } });
  },
  async bulkRevertAutoLabels(_parent, { roundId, reason }, ctx) {
    const round = await ctx.prisma.round.findUnique({ where: { id: roundId } }).catch(() => null);
    await owned(ctx, round, `round ${roundId}`, 'manage');
    return revertAutoLabels(ctx.pool, {
      roundId,
      annotatorId: actorId(ctx.viewer),
      reason: reason ?? undefined,
    });
  },
};
