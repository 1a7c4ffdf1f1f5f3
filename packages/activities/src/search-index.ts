import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';
import { heartbeatingThrough } from './heartbeats.ts';

/**
 * A promoted head's search index (orchestration queue: the work is Postgres's, so a long build
 * never holds the gpu worker that the next round's training and ingest need).
 */
export function createSearchIndexActivities({ db }: ActivityDeps) {
  return {
    /**
     * Builds the HNSW index of an active head's set (minutes at a million items; reads and
     * writes of the set go on meanwhile), then moves the project's neighbour searches to it.
     * A head that is no longer active by then is left without one: nothing would search it.
     */
    indexHeadForSearch(input: {
      headVersionId: string;
    }): Promise<{ searchable: boolean; seconds: number }> {
      return surfacing(async () => {
        const head = await db.heads.get(input.headVersionId);
        const project = await db.projects.get(head.projectId);
        if (project.activeHeadVersionId !== head.id) return { searchable: false, seconds: 0 };
        const started = Date.now();
        await heartbeatingThrough({ phase: 'search-index' }, () =>
          db.vectorSets.buildSearchIndex(head.id),
        );
        const searchable = await db.vectorSets.useForSearch(head.id);
        const seconds = (Date.now() - started) / 1000;
        console.log(`search index of head ${head.id}: built in ${seconds} s`);
        return { searchable, seconds };
      });
    },
  };
}
