import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  async health(_parent, _args, { pool }) {
    const { rows } = await pool.query<{ version: string }>(
      "SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'",
    );
    return { ok: true, database: `postgres, pgvector ${rows[0]?.version ?? 'missing'}` };
  },
  projects(_parent, _args, { prisma }) {
    return prisma.project.findMany({ orderBy: { createdAt: 'desc' } });
  },
  project(_parent, { slug }, { prisma }) {
    return prisma.project.findUnique({ where: { slug } });
  },
};
