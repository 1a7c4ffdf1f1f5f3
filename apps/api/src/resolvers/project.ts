import { AppError } from '@beanstalk/shared';
import { actorId, requirePlatformAdmin, roleIn } from '../auth/permissions.ts';
import type {
  MutationResolvers,
  ProjectResolvers,
  ProjectSettingsInput,
} from '../generated/graphql.ts';
import { projectBySlug } from './access.ts';
import { encoderTraining } from './encoders.ts';
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
  classes: (project, _args, { db }) => db.classes.ofProject(project.id),
  itemCounts: (project, _args, { db }) => db.projects.itemCounts(project.id),
  myRole: (project, _args, { viewer }) => roleIn(viewer, project.id),
  encoderVersion: (project, _args, { db }) =>
    project.encoderVersionId ? db.encoders.byId(project.encoderVersionId) : null,
  activeHeadVersion: (project, _args, { loaders }) =>
    project.activeHeadVersionId ? loaders.headVersion.load(project.activeHeadVersionId) : null,
  encoders: (project, _args, { db }) => db.encoders.ofProject(project.id),
  encoderTraining: (project, _args, ctx) => encoderTraining(project, ctx),
  createdAt: (project) => project.createdAt.toISOString(),
};

export const projectMutations: Pick<
  MutationResolvers,
  'createProject' | 'updateProjectSettings' | 'setAutoAcceptPrecisionTarget' | 'addBudget'
> = {
  async createProject(_parent, { input }, { db, viewer }) {
    requirePlatformAdmin(viewer);
    if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(input.slug)) {
      throw new AppError('BAD_USER_INPUT', 'slug must be 2-63 lowercase letters, digits or dashes');
    }
    if (input.classes.length < 2) {
      throw new AppError('BAD_USER_INPUT', 'a project needs at least two label classes');
    }
    const settings = validSettings({ k: input.k, roundSize: input.roundSize, name: input.name });
    return db.projects.create({
      slug: input.slug,
      name: input.name,
      description: input.description ?? '',
      settings,
      classes: input.classes.map((c) => validClassInput(c)),
    });
  },
  async updateProjectSettings(_parent, { project: slug, input }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    return ctx.db.projects.update(project.id, validSettings(input));
  },
  async setAutoAcceptPrecisionTarget(_parent, { project: slug, target }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    if (!(target >= 0.5 && target <= 1)) {
      throw new AppError('BAD_USER_INPUT', 'the precision target must be between 0.5 and 1');
    }
    return ctx.db.projects.update(project.id, { autoAcceptPrecisionTarget: target });
  },
  async addBudget(_parent, { project: slug, amount, reason }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    await ctx.db.budget.add({ projectId: project.id, amount, reason, userId: actorId(ctx.viewer) });
    return { projectId: project.id };
  },
};
