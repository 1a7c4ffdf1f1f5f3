import 'server-only';
import { redirect } from 'next/navigation';
import { graphql } from '../generated/gql.ts';
import { GraphQLRequestError } from './errors.ts';
import { request } from './graphql.ts';

const ProjectAccess = graphql(`
  query ProjectAccess($slug: String!) {
    viewer {
      user {
        name
        isAdmin
      }
    }
    project(slug: $slug) {
      id
      slug
      name
      myRole
      k
      roundSize
      autoAcceptPrecisionTarget
      targetMacroF1
      classes {
        id
        name
        position
        colour
        hotkey
        isNormal
        retired
      }
    }
  }
`);

export type Role = 'ADMIN' | 'MANAGER' | 'ANNOTATOR' | 'INTEGRATOR';

/** Pages a role may open; the API enforces the same (and more) on every operation. */
export const PAGES: Record<
  'overview' | 'label' | 'review' | 'items' | 'dashboard' | 'settings' | 'encoder' | 'upload',
  Role[]
> = {
  overview: ['ADMIN', 'MANAGER', 'ANNOTATOR'],
  label: ['ADMIN', 'MANAGER', 'ANNOTATOR'],
  review: ['ADMIN', 'MANAGER'],
  items: ['ADMIN', 'MANAGER', 'ANNOTATOR'],
  dashboard: ['ADMIN', 'MANAGER'],
  settings: ['ADMIN', 'MANAGER'],
  encoder: ['ADMIN', 'MANAGER'],
  upload: ['ADMIN', 'MANAGER'],
};

/**
 * The project a page is about and the caller's role in it; signed-out people go to the login
 * page. `allowed` is false when the role may not open the page (or there is no role at all),
 * `missing` true when there is no such project.
 */
export async function projectPage(slug: string, page: keyof typeof PAGES) {
  let data;
  try {
    data = await request(ProjectAccess, { slug });
  } catch (error) {
    if (error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED')
      redirect('/login');
    // A project the person has no role in: the page says so instead of failing.
    if (error instanceof GraphQLRequestError && error.code === 'FORBIDDEN') {
      return { project: null, role: null, allowed: false, missing: false };
    }
    throw error;
  }
  if (!data.viewer.user) redirect('/login');
  const project = data.project;
  const role = (project?.myRole ?? null) as Role | null;
  return { project, role, allowed: !!role && PAGES[page].includes(role), missing: !project };
}
