import { VECTOR_DIMS, type Database } from '@beanstalk/db';
import { HeadProjector, stackRows } from '@beanstalk/ml';
import { headWeights } from './heads.ts';

/**
 * Adds to a published vector set the items that have features but no vector in it: items
 * embedded while the set was built (a reindex pages by random item id, so a new item can sort
 * behind its cursor) or while it was swapped in (ingest writes to the set active at the time).
 * Returns how many it added.
 */
export async function catchUpVectorSet(
  db: Database,
  headVersionId: string,
  pageSize = 5000,
): Promise<number> {
  let added = 0;
  let projector: HeadProjector | null = null;
  try {
    for (;;) {
      const page = await db.vectorSets.missingItems(headVersionId, pageSize);
      if (page.length === 0) return added;
      const head = await db.heads.get(headVersionId);
      projector ??= await HeadProjector.create(headWeights(head));
      const projected = await projector.project(
        stackRows(
          page.map((r) => r.vector),
          head.inputDims,
        ),
        page.length,
      );
      added += await db.vectorSets.upsert(
        headVersionId,
        page.map((r, j) => ({
          itemId: r.itemId,
          embedding: projected.subarray(j * VECTOR_DIMS, (j + 1) * VECTOR_DIMS),
        })),
      );
    }
  } finally {
    await projector?.release();
  }
}
