import { PCA } from 'ml-pca';
import type { Pool } from '@beanstalk/db';

/**
 * Projects a head's vectors to 2-D with PCA (ml-pca). An even sample by item id keeps the
 * answer small and the same from call to call; predictions come along for colouring.
 */
export async function embeddingMap(
  pool: Pool,
  input: { projectId: string; headVersionId: string; limit: number },
) {
  const { rows } = await pool.query<{
    item_id: string;
    split: 'POOL' | 'EVAL' | 'GOLD';
    label_class_id: string | null;
    label_source: 'HUMAN' | 'AUTO' | 'GOLD' | 'IMPORT' | null;
    embedding: string;
    predicted: string | null;
    total: string;
  }>(
    `WITH numbered AS (
       SELECT v.*, row_number() OVER (ORDER BY v.item_id) AS n, count(*) OVER () AS total
         FROM item_vectors v WHERE v.head_version_id = $1 AND v.project_id = $2)
     SELECT x.item_id, x.split, x.label_class_id, x.label_source, x.embedding::text AS embedding,
            p.label_class_id AS predicted, x.total
       FROM numbered x
       LEFT JOIN predictions p ON p.head_version_id = $1 AND p.item_id = x.item_id
      WHERE x.n % greatest(1, ceil(x.total::float8 / $3)::int) = 0
      LIMIT $3`,
    [input.headVersionId, input.projectId, input.limit],
  );
  const total = Number(rows[0]?.total ?? 0);
  if (rows.length < 3) return { points: [], explained: 0, total };
  const data = rows.map((r) => JSON.parse(r.embedding) as number[]);
  const pca = new PCA(data, { center: true, scale: false });
  const projected = pca.predict(data, { nComponents: 2 }).to2DArray();
  const variance = pca.getExplainedVariance();
  return {
    total,
    explained: (variance[0] ?? 0) + (variance[1] ?? 0),
    points: rows.map((r, i) => ({
      itemId: r.item_id,
      x: projected[i]![0]!,
      y: projected[i]![1]!,
      split: r.split,
      labelClassId: r.label_class_id,
      labelSource: r.label_source,
      predictedClassId: r.predicted,
    })),
  };
}
