import type { Config } from '@beanstalk/config';
import type { PrismaClient } from '@beanstalk/db';

/** Activities that read platform state; the platform-check workflow uses them. */
export function createPlatformActivities(deps: { prisma: PrismaClient; config: Config }) {
  return {
    async countProjects(): Promise<number> {
      return deps.prisma.project.count();
    },
    /** Items of a project its encoder has not encoded yet (0 without an encoder). */
    async countItemsWithoutFeatures(input: { projectId: string }): Promise<number> {
      const project = await deps.prisma.project.findUniqueOrThrow({
        where: { id: input.projectId },
      });
      if (!project.encoderVersionId) return 0;
      return deps.prisma.item.count({
        where: {
          projectId: project.id,
          features: { none: { encoderVersionId: project.encoderVersionId } },
        },
      });
    },
    async describeServices(): Promise<string> {
      const rows = await deps.prisma.$queryRaw<{ version: string }[]>`
        SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'`;
      const pgvector = rows[0]?.version ?? 'missing';
      return `postgres+pgvector ${pgvector}, temporal ${deps.config.temporal.address}`;
    },
  };
}

export type PlatformActivities = ReturnType<typeof createPlatformActivities>;
