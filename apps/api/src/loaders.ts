import DataLoader from 'dataloader';
import { isUuid } from '@beanstalk/shared';
import type { Budget, Database, Item, Label, Prediction, SearchIndexState } from '@beanstalk/db';

/** Batches lookups by id into one query per tick; missing (or malformed) ids give null. */
function byId<T extends { id: string }>(read: (ids: string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const valid = ids.filter((id) => isUuid(id));
    const rows = valid.length ? await read(valid) : [];
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

/**
 * Per-request batching, so a page of items with labels, predictions and classes costs a fixed
 * number of queries whatever the page size.
 */
export function createLoaders(db: Database) {
  return {
    /** Once per request however many of its fields are asked for. */
    budget: new DataLoader<string, Budget>((projectIds) =>
      Promise.all(projectIds.map((id) => db.budget.of(id))),
    ),
    project: byId((ids) => db.projects.byIds(ids)),
    item: byId((ids) => db.items.byIds(ids)),
    labelClass: byId((ids) => db.classes.byIds(ids)),
    user: byId((ids) => db.users.byIds(ids)),
    label: byId((ids) => db.labels.byIds(ids)),
    round: byId((ids) => db.rounds.byIds(ids)),
    headVersion: byId((ids) => db.heads.byIds(ids)),
    /** Whether each head's search index is built, one catalog query for a list of heads. */
    searchIndex: new DataLoader<string, SearchIndexState>((ids) =>
      db.vectorSets.searchIndexStates(ids),
    ),
    /** An item's label history, oldest first; its current label is the one nothing supersedes. */
    labelHistory: new DataLoader<string, Label[]>(async (itemIds) => {
      const rows = await db.labels.histories(itemIds.filter((id) => isUuid(id)));
      return itemIds.map((id) => rows.filter((l) => l.itemId === id));
    }),
    /** Later items that nearly duplicate an item (at most 50 each). */
    nearDuplicates: new DataLoader<string, Item[]>(async (itemIds) => {
      const rows = await db.items.nearDuplicatesOf(itemIds);
      return itemIds.map((id) => rows.filter((i) => i.nearDuplicateOf === id));
    }),
    /** Predictions keyed `${headVersionId}:${itemId}`. */
    prediction: new DataLoader<string, Prediction | null>(async (keys) => {
      const pairs = keys.map((k) => {
        const [headVersionId, itemId] = k.split(':') as [string, string];
        return { headVersionId, itemId };
      });
      const rows = await db.predictions.ofPairs(pairs);
      const map = new Map(rows.map((r) => [`${r.headVersionId}:${r.itemId}`, r]));
      return keys.map((k) => map.get(k) ?? null);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** The current label in a history: the row no other row supersedes. */
export function currentOf(history: Label[]): Label | null {
  const superseded = new Set(history.map((l) => l.supersedesId).filter(Boolean));
  return history.find((l) => !superseded.has(l.id)) ?? null;
}
