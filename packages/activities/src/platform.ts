import type { ActivityDeps } from './deps.ts';

/** Activities that read platform state; the platform-check and ingest workflows use them. */
export function createPlatformActivities({ db, config }: Pick<ActivityDeps, 'db' | 'config'>) {
  return {
    countProjects(): Promise<number> {
      return db.projects.count();
    },
    /** Items of a project its encoder has not encoded yet (0 without an encoder). */
    /** Items the encoder (default: the project's) has not encoded yet. */
    async countItemsWithoutFeatures(input: {
      projectId: string;
      encoderVersionId?: string | null;
    }): Promise<number> {
      const project = await db.projects.get(input.projectId);
      const encoderVersionId = input.encoderVersionId ?? project.encoderVersionId;
      if (!encoderVersionId) return 0;
      return db.items.countWithoutFeatures(project.id, encoderVersionId);
    },
    async describeServices(): Promise<string> {
      const pgvector = (await db.vectorExtension()) ?? 'missing';
      return `postgres+pgvector ${pgvector}, temporal ${config.temporal.address}`;
    },
  };
}
