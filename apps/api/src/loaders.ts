import DataLoader from 'dataloader';
import { isUuid } from '@beanstalk/shared';
import {
  budgetOf,
  labelsOfItems,
  predictionsOf,
  rowsByIds,
  type Budget,
  type Label,
  type Pool,
  type Prediction,
} from '@beanstalk/db';

type Table = Parameters<typeof rowsByIds>[1];

/** Loads rows of a table by id in one query per tick; missing (or malformed) ids give null. */
function byId<T extends Table>(pool: Pool, table: T) {
  return new DataLoader<string, Awaited<ReturnType<typeof rowsByIds<T>>>[number] | null>(
    async (ids) => {
      const valid = ids.filter((id) => isUuid(id));
      const rows = valid.length ? await rowsByIds(pool, table, valid) : [];
      const map = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => map.get(id) ?? null);
    },
  );
}

/**
 * Per-request batching with plain SQL, so a page of items with labels, predictions and
 * classes costs a fixed number of queries whatever the page size.
 */
export function createLoaders(pool: Pool) {
  return {
    /** Once per request however many of its fields are asked for. */
    budget: new DataLoader<string, Budget>((projectIds) =>
      Promise.all(projectIds.map((id) => budgetOf(pool, id))),
    ),
    project: byId(pool, 'projects'),
    item: byId(pool, 'items'),
    labelClass: byId(pool, 'label_classes'),
    user: byId(pool, 'users'),
    round: byId(pool, 'rounds'),
    headVersion: byId(pool, 'head_versions'),
    /** An item's label history, oldest first; its current label is the one nothing supersedes. */
    labelHistory: new DataLoader<string, Label[]>(async (itemIds) => {
      const rows = await labelsOfItems(pool, itemIds);
      return itemIds.map((id) => rows.filter((l) => l.itemId === id));
    }),
    /** Predictions keyed `${headVersionId}:${itemId}`. */
    prediction: new DataLoader<string, Prediction | null>(async (keys) => {
      const pairs = keys.map((k) => {
        const [headVersionId, itemId] = k.split(':') as [string, string];
        return { headVersionId, itemId };
      });
      const rows = await predictionsOf(pool, pairs);
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
