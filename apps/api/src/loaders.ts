import DataLoader from 'dataloader';
import { budgetOf, type Budget, type Pool } from '@beanstalk/db';
import type {
  HeadVersion,
  Item,
  Label,
  LabelClass,
  Prediction,
  PrismaClient,
  Project,
  Round,
  User,
} from '@beanstalk/db';

/** Loads rows by id in one query per kind per tick; missing ids give null. */
function byId<T extends { id: string }>(fetch: (ids: string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await fetch([...ids]);
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

/** Groups rows by a key, in the order fetched. */
function grouped<T>(fetch: (keys: string[]) => Promise<T[]>, keyOf: (row: T) => string) {
  return new DataLoader<string, T[]>(async (keys) => {
    const rows = await fetch([...keys]);
    const map = new Map<string, T[]>();
    for (const row of rows) {
      const key = keyOf(row);
      map.set(key, [...(map.get(key) ?? []), row]);
    }
    return keys.map((k) => map.get(k) ?? []);
  });
}

/**
 * Per-request batching, so a page of items with labels, predictions and classes costs a fixed
 * number of queries whatever the page size.
 */
export function createLoaders(prisma: PrismaClient, pool: Pool) {
  return {
    /** Once per request however many of its fields are asked for. */
    budget: new DataLoader<string, Budget>((projectIds) =>
      Promise.all(projectIds.map((id) => budgetOf(pool, id))),
    ),
    project: byId<Project>((ids) => prisma.project.findMany({ where: { id: { in: ids } } })),
    item: byId<Item>((ids) => prisma.item.findMany({ where: { id: { in: ids } } })),
    labelClass: byId<LabelClass>((ids) =>
      prisma.labelClass.findMany({ where: { id: { in: ids } } }),
    ),
    user: byId<User>((ids) => prisma.user.findMany({ where: { id: { in: ids } } })),
    round: byId<Round>((ids) => prisma.round.findMany({ where: { id: { in: ids } } })),
    headVersion: byId<HeadVersion>((ids) =>
      prisma.headVersion.findMany({ where: { id: { in: ids } } }),
    ),
    /** An item's label history, oldest first; its current label is the one nothing supersedes. */
    labelHistory: grouped<Label>(
      (itemIds) =>
        prisma.label.findMany({
          where: { itemId: { in: itemIds } },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        }),
      (l) => l.itemId,
    ),
    /** Predictions keyed `${headVersionId}:${itemId}`. */
    prediction: new DataLoader<string, Prediction | null>(async (keys) => {
      const pairs = keys.map((k) => k.split(':') as [string, string]);
      const rows = await prisma.prediction.findMany({
        where: {
          OR: [...new Set(pairs.map(([h]) => h))].map((headVersionId) => ({
            headVersionId,
            itemId: { in: pairs.filter(([h]) => h === headVersionId).map(([, i]) => i) },
          })),
        },
      });
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
