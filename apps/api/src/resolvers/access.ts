import { projectBySlug as findProject, type Project } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';
import { authorize, type Permission } from '../auth/permissions.ts';
import type { Context } from '../context.ts';

/** A project by slug, after checking the caller may `permission` there. */
export async function projectBySlug(
  ctx: Context,
  slug: string,
  permission: Permission,
): Promise<Project> {
  const project = await findProject(ctx.pool, slug);
  if (!project) throw new AppError('NOT_FOUND', `no project "${slug}"`);
  authorize(ctx.viewer, project.id, permission);
  return project;
}

/**
 * Loads a project-owned row by id and checks the caller may `permission` in its project.
 * Rows of projects the caller cannot see are reported as missing, not forbidden, when even
 * reading is not allowed (so ids do not leak across projects).
 */
export async function owned<T extends { projectId: string }>(
  ctx: Context,
  row: T | null,
  what: string,
  permission: Permission,
): Promise<T> {
  if (!row) throw new AppError('NOT_FOUND', `${what} does not exist`);
  try {
    authorize(ctx.viewer, row.projectId, 'read');
  } catch (error) {
    if ((error as AppError).code === 'FORBIDDEN') {
      throw new AppError('NOT_FOUND', `${what} does not exist`);
    }
    throw error;
  }
  authorize(ctx.viewer, row.projectId, permission);
  return row;
}

export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
