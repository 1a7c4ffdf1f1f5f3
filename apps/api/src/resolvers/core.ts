import { authorize, isPlatformAdmin, requireSignedIn } from '../auth/permissions.ts';
import type { QueryResolvers } from '../generated/graphql.ts';

export const coreQueries: QueryResolvers = {
  async health(_parent, _args, { db, temporal }) {
    const database = await db
      .vectorExtension()
      .then((vector) => `postgres, pgvector ${vector ?? 'missing'}`)
      .catch((error: Error) => `unreachable (${error.message})`);
    const temporalState = await temporal()
      .then(async (client) => {
        await client.workflowService.getSystemInfo({});
        return 'serving';
      })
      .catch((error: Error) => `unreachable (${error.message})`);
    return {
      ok: temporalState === 'serving' && !database.startsWith('unreachable'),
      database,
      temporal: temporalState,
    };
  },
  viewer: (_parent, _args, { viewer }) => viewer,
  projects(_parent, _args, { db, viewer }) {
    requireSignedIn(viewer);
    return db.projects.list(
      isPlatformAdmin(viewer)
        ? undefined
        : viewer.kind === 'apiKey'
          ? [viewer.apiKey.projectId]
          : [...viewer.roles.keys()],
    );
  },
  async project(_parent, { slug }, ctx) {
    const project = await ctx.db.projects.bySlug(slug);
    if (!project) return null;
    authorize(ctx.viewer, project.id, 'read');
    return project;
  },
};
