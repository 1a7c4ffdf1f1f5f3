import type { ActivityDeps } from './deps.ts';

/** Activities that read platform state; the platform-check and ingest workflows use them. */
export function createPlatformActivities({ db, config }: Pick<ActivityDeps, 'db' | 'config'>) {
  return {
    countProjects(): Promise<number> {
      return db.projects.count();
    },
    /** Items of a project its encoder has not encoded yet (0 without an encoder). */
    async countItemsWithoutFeatures(input: { projectId: string }): Promise<number> {
      const project = await db.projects.get(input.projectId);
      if (!project.encoderVersionId) return 0;
      return db.items.countWithoutFeatures(project.id, project.encoderVersionId);
    },
    async describeServices(): Promise<string> {
      const pgvector = (await db.vectorExtension()) ?? 'missing';
      return `postgres+pgvector ${pgvector}, temporal ${config.temporal.address}`;
    },
  };
}
