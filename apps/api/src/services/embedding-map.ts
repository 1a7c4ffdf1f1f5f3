import { PCA } from 'ml-pca';
import type { Database } from '@beanstalk/db';

/**
 * Projects a head's vectors to 2-D with PCA (ml-pca). An even sample by item id keeps the
 * answer small and the same from call to call; predictions come along for colouring.
 */
export async function embeddingMap(
  db: Database,
  input: { projectId: string; headVersionId: string; limit: number },
) {
  const { total, rows } = await db.vectorSets.sample(input);
  if (rows.length < 3) return { points: [], explained: 0, total };
  const data = rows.map((r) => Array.from(r.vector));
  const pca = new PCA(data, { center: true, scale: false });
  const projected = pca.predict(data, { nComponents: 2 }).to2DArray();
  const variance = pca.getExplainedVariance();
  return {
    total,
    explained: (variance[0] ?? 0) + (variance[1] ?? 0),
    points: rows.map((r, i) => ({
      itemId: r.itemId,
      x: projected[i]![0]!,
      y: projected[i]![1]!,
      split: r.split,
      labelClassId: r.labelClassId,
      labelSource: r.labelSource,
      predictedClassId: r.predictedClassId,
    })),
  };
}
