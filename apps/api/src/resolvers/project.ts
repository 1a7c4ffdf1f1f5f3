import { minEvalLabels } from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import {
  actorId,
  authorize,
  mayCreateProjects,
  requireSignedIn,
  roleIn,
} from '../auth/permissions.ts';
import type {
  CreateProjectInput,
  MutationResolvers,
  ProjectResolvers,
  ProjectSettingsInput,
} from '../generated/graphql.ts';
import { projectBySlug } from './access.ts';
import { encoderTraining } from './encoders.ts';
import { classProblems, validClassInput } from './label-class.ts';

/** What is wrong with project settings, by field name (empty when nothing is). */
function settingsProblems(input: ProjectSettingsInput): Record<string, string> {
  const problems: Record<string, string> = {};
  const check = (field: string, ok: boolean, message: string) => {
    if (!ok) problems[field] = message;
  };
  if (input.k != null)
    check('k', Number.isInteger(input.k) && input.k >= 1 && input.k <= 100, 'k must be 1..100');
  if (input.roundSize != null)
    check(
      'roundSize',
      Number.isInteger(input.roundSize) && input.roundSize >= 1 && input.roundSize <= 10_000,
      'roundSize must be 1..10000',
    );
  if (input.targetMacroF1 != null)
    check(
      'targetMacroF1',
      input.targetMacroF1 > 0 && input.targetMacroF1 <= 1,
      'targetMacroF1 must be in (0, 1]',
    );
  if (input.promotionTolerance != null)
    check(
      'promotionTolerance',
      input.promotionTolerance >= 0 && input.promotionTolerance < 1,
      'promotionTolerance must be in [0, 1)',
    );
  if (input.taskLeaseSeconds != null)
    check(
      'taskLeaseSeconds',
      input.taskLeaseSeconds >= 10 && input.taskLeaseSeconds <= 86_400,
      'taskLeaseSeconds must be 10..86400',
    );
  if (input.evalLabelTarget != null)
    check(
      'evalLabelTarget',
      Number.isInteger(input.evalLabelTarget) &&
        input.evalLabelTarget >= 0 &&
        input.evalLabelTarget <= 100_000,
      'evalLabelTarget must be 0..100000',
    );
  if (input.goldRate != null)
    check(
      'goldRate',
      input.goldRate >= 0 && input.goldRate <= 0.5,
      'goldRate must be 0..0.5 (a queue of mostly gold questions teaches the model nothing)',
    );
  if (input.goldAccuracyWarning != null)
    check(
      'goldAccuracyWarning',
      input.goldAccuracyWarning >= 0 && input.goldAccuracyWarning <= 1,
      'goldAccuracyWarning must be 0..1',
    );
  if (input.name != null) check('name', input.name.trim().length > 0, 'name must not be empty');
  return problems;
}

/** BAD_USER_INPUT naming every problem; `fields` lets a form show each next to its field. */
function refuse(fields: Record<string, string>): void {
  if (Object.keys(fields).length === 0) return;
  throw new AppError('BAD_USER_INPUT', Object.values(fields).join('; '), { fields });
}

function validSettings(input: ProjectSettingsInput) {
  refuse(settingsProblems(input));
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== null));
}

/** Every problem of a new project at once, keyed `slug`, `classes.2.hotkey`, `budget`, ... */
function newProjectProblems(input: CreateProjectInput): Record<string, string> {
  const problems = settingsProblems({ k: input.k, roundSize: input.roundSize, name: input.name });
  if (input.name.length > 200) problems.name = 'a name is at most 200 characters';
  if ((input.description ?? '').length > 2000) {
    problems.description = 'a description is at most 2000 characters';
  }
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(input.slug)) {
    problems.slug = 'slug must be 2-63 lowercase letters, digits or dashes';
  }
  if (
    input.budget != null &&
    !(Number.isInteger(input.budget) && input.budget >= 0 && input.budget <= 1e6)
  ) {
    problems.budget = 'the budget is a whole number of labels, 0..1000000';
  }
  if (input.classes.length < 2) problems.classes = 'a project needs at least two label classes';
  if (input.classes.length > 100) problems.classes = 'a project has at most 100 classes';
  const names = new Set<string>();
  const hotkeys = new Set<string>();
  input.classes.slice(0, 100).forEach((c, i) => {
    for (const [field, message] of Object.entries(classProblems(c))) {
      problems[`classes.${i}.${field}`] = message;
    }
    if (names.has(c.name)) problems[`classes.${i}.name`] = `"${c.name}" is named twice`;
    names.add(c.name);
    if (c.hotkey && hotkeys.has(c.hotkey)) {
      problems[`classes.${i}.hotkey`] = `hotkey ${c.hotkey} is used twice`;
    }
    if (c.hotkey) hotkeys.add(c.hotkey);
  });
  return problems;
}

export const Project: ProjectResolvers = {
  classes: (project, _args, { db }) => db.classes.ofProject(project.id),
  itemCounts: (project, _args, { db }) => db.projects.itemCounts(project.id),
  evalLabelsNeeded: async (project, _args, { db }) =>
    minEvalLabels((await db.classes.ofProject(project.id)).filter((c) => !c.retiredAt).length),
  myRole: (project, _args, { viewer }) => roleIn(viewer, project.id),
  encoderVersion: (project, _args, { db }) =>
    project.encoderVersionId ? db.encoders.byId(project.encoderVersionId) : null,
  activeHeadVersion: (project, _args, { loaders }) =>
    project.activeHeadVersionId ? loaders.headVersion.load(project.activeHeadVersionId) : null,
  searchHeadVersion: (project, _args, { loaders }) =>
    project.searchHeadVersionId ? loaders.headVersion.load(project.searchHeadVersionId) : null,
  encoders: (project, _args, { db }) => db.encoders.ofProject(project.id),
  encoderTraining: (project, _args, ctx) => encoderTraining(project, ctx),
  members: async (project, _args, ctx) => {
    authorize(ctx.viewer, project.id, 'administer');
    return ctx.db.users.membersOf(project.id);
  },
  createdAt: (project) => project.createdAt.toISOString(),
};

export const projectMutations: Pick<
  MutationResolvers,
  'createProject' | 'updateProjectSettings' | 'setAutoAcceptPrecisionTarget' | 'addBudget'
> = {
  async createProject(_parent, { input }, { db, viewer }) {
    requireSignedIn(viewer);
    if (!mayCreateProjects(viewer)) {
      throw new AppError(
        'FORBIDDEN',
        'only platform admins and admins or managers of a project may create projects',
      );
    }
    refuse(newProjectProblems(input));
    // A platform admin sees every project anyway; anyone else needs a role to see theirs.
    const adminUserId = viewer.kind === 'user' && !viewer.user.isAdmin ? viewer.user.id : null;
    const project = await db.projects.create({
      slug: input.slug,
      name: input.name.trim(),
      description: input.description ?? '',
      settings: validSettings({ k: input.k, roundSize: input.roundSize }),
      classes: input.classes.map((c) => validClassInput(c)),
      budget: input.budget ?? 0,
      adminUserId,
    });
    // The rest of this request (myRole, classes) sees the role it was just given.
    if (adminUserId && viewer.kind === 'user') viewer.roles.set(project.id, 'ADMIN');
    return project;
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
