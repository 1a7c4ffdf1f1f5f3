import type { Project } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';
import { authorize, type Permission } from '../auth/permissions.ts';
import type { Context } from '../context.ts';

/**
 * A project by slug, after checking the caller may `permission` there. `cached`: from the
 * read cache (classifications, which only need its models and settings as of a moment ago),
 * not from the database (everything that answers with or changes the project's state).
 */
export async function projectBySlug(
  ctx: Context,
  slug: string,
  permission: Permission,
  { cached = false } = {},
): Promise<Project> {
  const project = await (cached ? ctx.reads.projectBySlug(slug) : ctx.db.projects.bySlug(slug));
  if (!project) throw new AppError('NOT_FOUND', `no project "${slug}"`);
  authorize(ctx.viewer, project.id, permission);
  return project;
}

/**
 * Checks the caller may `permission` in a project that owns a row. Rows of projects the
 * caller cannot even read are reported as missing, not forbidden, so ids do not leak across
 * projects.
 */
export function checkOwned(
  ctx: Context,
  projectId: string,
  what: string,
  permission: Permission,
): void {
  try {
    authorize(ctx.viewer, projectId, 'read');
  } catch (error) {
    if ((error as AppError).code === 'FORBIDDEN') {
      throw new AppError('NOT_FOUND', `${what} does not exist`);
    }
    throw error;
  }
  authorize(ctx.viewer, projectId, permission);
}

/** A project-owned row (or NOT_FOUND) after checkOwned. */
export async function owned<T extends { projectId: string }>(
  ctx: Context,
  row: T | null,
  what: string,
  permission: Permission,
): Promise<T> {
  if (!row) throw new AppError('NOT_FOUND', `${what} does not exist`);
  checkOwned(ctx, row.projectId, what, permission);
  return row;
}

export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
