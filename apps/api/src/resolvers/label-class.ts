import { AppError } from '@beanstalk/shared';
import type {
  LabelClassInput,
  LabelClassResolvers,
  LabelClassUpdate,
  MutationResolvers,
} from '../generated/graphql.ts';
import { owned, projectBySlug } from './access.ts';

/** What is wrong with a class's fields, by field name (empty when nothing is). */
export function classProblems(input: LabelClassInput | LabelClassUpdate): Record<string, string> {
  const problems: Record<string, string> = {};
  if (input.name != null && !/^\S(.{0,62}\S)?$/.test(input.name)) {
    problems.name = 'a class name is 1-64 characters without leading or trailing spaces';
  }
  if (input.colour != null && !/^#[0-9a-fA-F]{6}$/.test(input.colour)) {
    problems.colour = `colour must look like #a1b2c3 (got ${input.colour})`;
  }
  if (input.hotkey != null && !/^[a-z0-9]$/.test(input.hotkey)) {
    problems.hotkey = 'a hotkey is one lowercase letter or digit';
  } else if (input.hotkey === 's' || input.hotkey === 'u') {
    problems.hotkey = 'hotkeys s and u are taken (skip, undo)';
  }
  return problems;
}

/** Checks a class's fields; returns only the ones given. */
export function validClassInput<T extends LabelClassInput | LabelClassUpdate>(input: T) {
  const problems = Object.values(classProblems(input));
  if (problems.length) throw new AppError('BAD_USER_INPUT', problems.join('; '));
  return Object.fromEntries(
    Object.entries(input).filter(([, v]) => v !== undefined && v !== null),
  ) as { name: string; colour?: string; hotkey?: string; isNormal?: boolean };
}

export const LabelClass: LabelClassResolvers = {
  retired: (labelClass) => labelClass.retiredAt !== null,
};

export const labelClassMutations: Pick<
  MutationResolvers,
  'addLabelClass' | 'updateLabelClass' | 'retireLabelClass'
> = {
  async addLabelClass(_parent, { project: slug, input }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    return ctx.db.classes.add(project.id, validClassInput(input));
  },
  async updateLabelClass(_parent, { id, input }, ctx) {
    const found = await owned(ctx, await ctx.loaders.labelClass.load(id), `class ${id}`, 'manage');
    return ctx.db.classes.update(found.id, validClassInput(input));
  },
  async retireLabelClass(_parent, { id }, ctx) {
    const found = await owned(ctx, await ctx.loaders.labelClass.load(id), `class ${id}`, 'manage');
    return ctx.db.classes.retire(found.id);
  },
};
