import type { ProjectResolvers } from '../generated/graphql.ts';

export const Project: ProjectResolvers = {
  classes(project, _args, { prisma }) {
    return prisma.labelClass.findMany({
      where: { projectId: project.id },
      orderBy: { position: 'asc' },
    });
  },
  async itemCounts(project, _args, { prisma }) {
    const groups = await prisma.item.groupBy({
      by: ['split'],
      where: { projectId: project.id },
      _count: true,
    });
    const count = (split: string) => groups.find((g) => g.split === split)?._count ?? 0;
    return {
      total: groups.reduce((sum, g) => sum + g._count, 0),
      pool: count('POOL'),
      eval: count('EVAL'),
      gold: count('GOLD'),
    };
  },
  createdAt: (project) => project.createdAt.toISOString(),
};
