import { AppError } from '@beanstalk/shared';
import type { Role, Viewer } from './viewer.ts';

/**
 * What each role may do in a project: the one place access is decided. Platform admins
 * (users with isAdmin) may do everything everywhere.
 */
export const PERMISSIONS = {
  /** See the project: items, predictions, rounds, metrics, budget, models. */
  read: ['ADMIN', 'MANAGER', 'ANNOTATOR', 'INTEGRATOR'],
  /** Classify or search by an uploaded image without storing it. */
  classify: ['ADMIN', 'MANAGER', 'ANNOTATOR', 'INTEGRATOR'],
  /** Add images (uploads, classify with store) and import labels. */
  ingest: ['ADMIN', 'MANAGER', 'INTEGRATOR'],
  export: ['ADMIN', 'MANAGER', 'INTEGRATOR'],
  /** Claim, answer and skip label tasks. */
  label: ['ADMIN', 'MANAGER', 'ANNOTATOR'],
  relabel: ['ADMIN', 'MANAGER', 'ANNOTATOR'],
  /**
   * See GOLD items as such, with their labels. Annotators answer gold questions, so to them a
   * gold item reads as a pool item without a label and is left out of item lists.
   */
  seeGold: ['ADMIN', 'MANAGER', 'INTEGRATOR'],
  /** See flagged labels and decide on them (the review queue). */
  review: ['ADMIN', 'MANAGER'],
  /** Settings, classes, budget, rounds, campaigns, auto labels, model versions, webhooks. */
  manage: ['ADMIN', 'MANAGER'],
  /** API keys, memberships, server-side folder imports. */
  administer: ['ADMIN'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

/**
 * Roles that, held in any project, let a person create new projects (a team lead starting
 * the next inspection line). API keys never may; platform admins always may.
 */
export const PROJECT_CREATORS = ['ADMIN', 'MANAGER'] as const satisfies readonly Role[];

export function mayCreateProjects(viewer: Viewer): boolean {
  if (viewer.kind !== 'user') return false;
  if (viewer.user.isAdmin) return true;
  return [...viewer.roles.values()].some((role) =>
    (PROJECT_CREATORS as readonly Role[]).includes(role),
  );
}

export function isPlatformAdmin(viewer: Viewer): boolean {
  return viewer.kind === 'user' && viewer.user.isAdmin;
}

/** The caller's role in a project, or null when it has none. */
export function roleIn(viewer: Viewer, projectId: string): Role | null {
  switch (viewer.kind) {
    case 'anonymous':
      return null;
    case 'apiKey':
      return viewer.apiKey.projectId === projectId ? viewer.apiKey.role : null;
    case 'user':
      return viewer.roles.get(projectId) ?? (viewer.user.isAdmin ? 'ADMIN' : null);
  }
}

/** The projects a caller who is not a platform admin has a role in. */
export function visibleProjects(viewer: Viewer): string[] {
  switch (viewer.kind) {
    case 'anonymous':
      return [];
    case 'apiKey':
      return [viewer.apiKey.projectId];
    case 'user':
      return [...viewer.roles.keys()];
  }
}

/** Whether the caller may see that a project exists (and its name, classes, metrics). */
export function maySee(viewer: Viewer, projectId: string): boolean {
  return isPlatformAdmin(viewer) || roleIn(viewer, projectId) !== null;
}

export function requireSignedIn(
  viewer: Viewer,
): asserts viewer is Exclude<Viewer, { kind: 'anonymous' }> {
  if (viewer.kind === 'anonymous') {
    throw new AppError('UNAUTHENTICATED', 'sign in (login mutation) or send an API key');
  }
}

export function requirePlatformAdmin(viewer: Viewer): void {
  requireSignedIn(viewer);
  if (!isPlatformAdmin(viewer)) {
    throw new AppError('FORBIDDEN', 'only platform administrators may do this');
  }
}

/** Throws UNAUTHENTICATED or FORBIDDEN unless the caller may `permission` in the project. */
export function authorize(viewer: Viewer, projectId: string, permission: Permission): Role {
  requireSignedIn(viewer);
  if (isPlatformAdmin(viewer)) return 'ADMIN';
  const role = roleIn(viewer, projectId);
  if (!role) throw new AppError('FORBIDDEN', 'you have no role in this project');
  if (!(PERMISSIONS[permission] as readonly Role[]).includes(role)) {
    throw new AppError('FORBIDDEN', `the ${role.toLowerCase()} role may not ${permission} here`);
  }
  return role;
}

/** Whether the caller may `permission` in the project (for fields that read null otherwise). */
export function may(viewer: Viewer, projectId: string, permission: Permission): boolean {
  if (isPlatformAdmin(viewer)) return true;
  const role = roleIn(viewer, projectId);
  return role !== null && (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** The user id to record as annotator/creator (null for API keys). */
export function actorId(viewer: Viewer): string | null {
  return viewer.kind === 'user' ? viewer.user.id : null;
}

/** Who acted, for the label log: the person, or the API key (an integration). */
export function actor(viewer: Viewer): { annotatorId: string | null; apiKeyId: string | null } {
  return {
    annotatorId: actorId(viewer),
    apiKeyId: viewer.kind === 'apiKey' ? viewer.apiKey.id : null,
  };
}

/**
 * Label tasks are claimed, answered and skipped by people: a claim belongs to someone, and an
 * API key (shared by a whole integration) could otherwise answer anyone's claim.
 */
export function requirePerson(viewer: Viewer): string {
  requireSignedIn(viewer);
  if (viewer.kind !== 'user') {
    throw new AppError('FORBIDDEN', 'label tasks are claimed and answered by people, not API keys');
  }
  return viewer.user.id;
}
