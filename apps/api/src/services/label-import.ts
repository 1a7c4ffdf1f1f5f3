import { appendLabel, type Pool } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';

/**
 * Imports labels from JSONL lines `{ "contentHash": ..., "label": <class name> }` (what
 * exportLabels writes). Every line is checked before anything is written, and all are written
 * in one transaction; an item already carrying the same class is left alone.
 */
export async function importLabelLines(
  pool: Pool,
  projectId: string,
  jsonl: string,
): Promise<number> {
  const lines = jsonl
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const parsed = lines.map((line, i) => {
    try {
      const r = JSON.parse(line) as { contentHash?: unknown; label?: unknown };
      if (typeof r.contentHash === 'string' && typeof r.label === 'string') {
        return { contentHash: r.contentHash, label: r.label };
      }
    } catch {
      // reported below
    }
    throw new AppError(
      'BAD_USER_INPUT',
      `line ${i + 1}: expected {"contentHash": "...", "label": "..."}`,
    );
  });
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{
      line: number;
      item_id: string | null;
      class_id: string | null;
      retired: boolean | null;
      current_id: string | null;
      current_class: string | null;
    }>(
      `SELECT t.line, i.id AS item_id, c.id AS class_id, c.retired_at IS NOT NULL AS retired,
              cl.id AS current_id, cl.label_class_id AS current_class
         FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(hash, label, line)
         LEFT JOIN items i ON i.project_id = $1 AND i.content_hash = t.hash
         LEFT JOIN label_classes c ON c.project_id = $1 AND c.name = t.label
         LEFT JOIN current_labels cl ON cl.item_id = i.id
        ORDER BY t.line`,
      [projectId, parsed.map((p) => p.contentHash), parsed.map((p) => p.label)],
    );
    const problems = rows.flatMap((r) => {
      const p = parsed[r.line - 1]!;
      if (!r.item_id)
        return [`line ${r.line}: no image with content hash ${p.contentHash} in this project`];
      if (!r.class_id) return [`line ${r.line}: unknown class "${p.label}"`];
      if (r.retired) return [`line ${r.line}: class "${p.label}" is retired`];
      return [];
    });
    if (problems.length) {
      throw new AppError('BAD_USER_INPUT', problems.slice(0, 20).join('; '), { problems });
    }
    let added = 0;
    for (const r of rows) {
      if (r.current_class === r.class_id) continue;
      await appendLabel(client, {
        projectId,
        itemId: r.item_id!,
        labelClassId: r.class_id,
        source: 'IMPORT',
        reason: 'imported labels',
        supersedesId: r.current_id,
      });
      added++;
    }
    await client.query('COMMIT');
    return added;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
