import { budgetOf } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';
import { actorId, requirePlatformAdmin, roleIn } from '../auth/permissions.ts';
import type {
  MutationResolvers,
  ProjectResolvers,
  ProjectSettingsInput,
} from '../generated/graphql.ts';
import { projectBySlug } from './access.ts';
import { validClassInput } from './label-class.ts';

function validSettings(input: ProjectSettingsInput) {
  const problems: string[] = [];
  const check = (ok: boolean, message: string) => ok || problems.push(message);
  if (input.k != null)
    check(Number.isInteger(input.k) && input.k >= 1 && input.k <= 100, 'k must be 1..100');
  if (input.roundSize != null)
    check(
      Number.isInteger(input.roundSize) && input.roundSize >= 1 && input.roundSize <= 10_000,
      'roundSize must be 1..10000',
    );
  if (input.targetMacroF1 != null)
    check(input.targetMacroF1 > 0 && input.targetMacroF1 <= 1, 'targetMacroF1 must be in (0, 1]');
  if (input.promotionTolerance != null)
    check(
      input.promotionTolerance >= 0 && input.promotionTolerance < 1,
      'promotionTolerance must be in [0, 1)',
    );
  if (input.taskLeaseSeconds != null)
    check(
      input.taskLeaseSeconds >= 10 && input.taskLeaseSeconds <= 86_400,
      'taskLeaseSeconds must be 10..86400',
    );
  if (input.name != null) check(input.name.trim().length > 0, 'name must not be empty');
  if (problems.length) throw new AppError('BAD_USER_INPUT', problems.join('; '));
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== null));
}

export const Project: ProjectResolvers = {
  classes: (project, _args, { prisma }) =>
    prisma.labelClass.findMany({ where: { projectId: project.id }, orderBy: { position: 'asc' } }),
  async itemCounts(project, _args, { pool }) {
    const { rows } = await pool.query<Record<string, string>>(
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE split = 'POOL') AS pool,
              count(*) FILTER (WHERE split = 'EVAL') AS eval,
              count(*) FILTER (WHERE split = 'GOLD') AS gold,
              (SELECT count(*) FROM current_labels
                WHERE project_id = $1 AND label_class_id IS NOT NULL) AS labeled
         FROM items WHERE project_id = $1`,
      [project.id],
    );
    const r = rows[0]!;
    return {
      total: Number(r.total),
      pool: Number(r.pool),
      eval: Number(r.eval),
      gold: Number(r.gold),
      labeled: Number(r.labeled),
    };
  },
  myRole: (project, _args, { viewer }) => roleIn(viewer, project.id),
  encoderVersion: (project, _args, { prisma }) =>
    project.encoderVersionId
      ? prisma.encoderVersion.findUnique({ where: { id: project.encoderVersionId } })
      : null,
  activeHeadVersion: (project, _args, { loaders }) =>
    project.activeHeadVersionId ? loaders.headVersion.load(project.activeHeadVersionId) : null,
  createdAt: (project) => project.createdAt.toISOString(),
};

export const projectMutations: Pick<
  MutationResolvers,
  'createProject' | 'updateProjectSettings' | 'setAutoAcceptPrecisionTarget' | 'addBudget'
> = {
  async createProject(_parent, { input }, { prisma, viewer }) {
    requirePlatformAdmin(viewer);
    if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(input.slug)) {
      throw new AppError('BAD_USER_INPUT', 'slug must be 2-63 lowercase letters, digits or dashes');
    }
    if (input.classes.length < 2) {
      throw new AppError('BAD_USER_INPUT', 'a project needs at least two label classes');
    }
    const settings = validSettings({ k: input.k, roundSize: input.roundSize, name: input.name });
    if (await prisma.project.findUnique({ where: { slug: input.slug } })) {
      throw new AppError('CONFLICT', `a project "${input.slug}" already exists`);
    }
    return prisma.project.create({
      data: {
        slug: input.slug,
        name: input.name,
        description: input.description ?? '',
        ...settings,
        labelClasses: {
          create: input.classes.map((c, position) => ({ ...validClassInput(c), position })),
        },
      },
    });
  },
  async updateProjectSettings(_parent, { project: slug, input }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    return ctx.prisma.project.update({ where: { id: project.id }, data: validSettings(input) });
  },
  async setAutoAcceptPrecisionTarget(_parent, { project: slug, target }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    if (!(target >= 0.5 && target <= 1)) {
      throw new AppError('BAD_USER_INPUT', 'the precision target must be between 0.5 and 1');
    }
    return ctx.prisma.project.update({
      where: { id: project.id },
      data: { autoAcceptPrecisionTarget: target },
    });
  },
  async addBudget(_parent, { project: slug, amount, reason }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    if (!Number.isInteger(amount) || amount === 0 || Math.abs(amount) > 1_000_000) {
      throw new AppError('BAD_USER_INPUT', 'amount must be a non-zero whole number of labels');
    }
    const budget = await budgetOf(ctx.pool, project.id);
    if (budget.total + amount < budget.spent + budget.reserved) {
      throw new AppError(
        'BUDGET_EXHAUSTED',
        `cannot take ${-amount} labels away: only ${budget.remaining} are unspent and unreserved`,
      );
    }
    await ctx.prisma.budgetEvent.create({
      data: { projectId: project.id, amount, reason, userId: actorId(ctx.viewer) },
    });
    return { projectId: project.id };
  },
};
