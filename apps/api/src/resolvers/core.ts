import { projectBySlug as findProject } from '@beanstalk/db';
import { authorize, isPlatformAdmin, requireSignedIn } from '../auth/permissions.ts';
import type { QueryResolvers } from '../generated/graphql.ts';

export const coreQueries: QueryResolvers = {
  async health(_parent, _args, { pool, temporal }) {
    const { rows } = await pool.query<{ version: string }>(
      "SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'",
    );
    const temporalState = await temporal()
      .then(async (client) => {
        await client.workflowService.getSystemInfo({});
        return 'serving';
      })
      .catch((error: Error) => `unreachable (${error.message})`);
    return {
      ok: temporalState === 'serving',
      database: `postgres, pgvector ${rows[0]?.version ?? 'missing'}`,
      temporal: temporalState,
    };
  },
  viewer: (_parent, _args, { viewer }) => viewer,
  projects(_parent, _args, { prisma, viewer }) {
    requireSignedIn(viewer);
    const where = isPlatformAdmin(viewer)
      ? {}
      : viewer.kind === 'apiKey'
        ? { id: viewer.apiKey.projectId }
        : { id: { in: [...viewer.roles.keys()] } };
    return prisma.project.findMany({ where, orderBy: { createdAt: 'desc' } });
  },
  async project(_parent, { slug }, ctx) {
    const project = await findProject(ctx.pool, slug);
    if (!project) return null;
    authorize(ctx.viewer, project.id, 'read');
    return project;
  },
};
