import type { Pool } from '@beanstalk/db';
import type { ExportFormat } from '../generated/graphql.ts';

interface ExportRow {
  item_id: string;
  content_hash: string;
  source_ref: string | null;
  split: string;
  class_name: string;
  class_position: number;
  source: string;
  confidence: number | null;
  created_at: Date;
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** A project's current labels as a file; items are identified by image content hash. */
export async function exportLabels(
  pool: Pool,
  project: { id: string; slug: string },
  format: ExportFormat,
) {
  const { rows } = await pool.query<ExportRow>(
    `SELECT i.id AS item_id, i.content_hash, i.source_ref, i.split, c.name AS class_name,
            c.position AS class_position, cl.source, cl.confidence, cl.created_at
       FROM current_labels cl
       JOIN items i ON i.id = cl.item_id
       JOIN label_classes c ON c.id = cl.label_class_id
      WHERE cl.project_id = $1
      ORDER BY i.content_hash`,
    [project.id],
  );
  const record = (r: ExportRow) => ({
    contentHash: r.content_hash,
    itemId: r.item_id,
    sourceRef: r.source_ref,
    split: r.split,
    label: r.class_name,
    source: r.source,
    confidence: r.confidence,
    labeledAt: r.created_at.toISOString(),
  });
  const base = `${project.slug}-labels`;
  switch (format) {
    case 'CSV': {
      const header = [
        'content_hash',
        'item_id',
        'source_ref',
        'split',
        'label',
        'source',
        'confidence',
        'labeled_at',
      ];
      const lines = rows.map((r) => Object.values(record(r)).map(csvField).join(','));
      return {
        filename: `${base}.csv`,
        contentType: 'text/csv',
        content: [header.join(','), ...lines].join('\n') + '\n',
        count: rows.length,
      };
    }
    case 'JSONL':
      return {
        filename: `${base}.jsonl`,
        contentType: 'application/x-ndjson',
        content: rows.map((r) => JSON.stringify(record(r)) + '\n').join(''),
        count: rows.length,
      };
    case 'COCO': {
      const classes = await pool.query<{ name: string; position: number }>(
        'SELECT name, position FROM label_classes WHERE project_id = $1 ORDER BY position',
        [project.id],
      );
      const coco = {
        info: { description: `${project.slug} labels`, date_created: new Date().toISOString() },
        categories: classes.rows.map((c) => ({ id: c.position, name: c.name })),
        images: rows.map((r, i) => ({
          id: i,
          file_name: r.source_ref ?? r.content_hash,
          sha256: r.content_hash,
        })),
        annotations: rows.map((r, i) => ({
          id: i,
          image_id: i,
          category_id: r.class_position,
          source: r.source,
          ...(r.confidence === null ? {} : { score: r.confidence }),
        })),
      };
      return {
        filename: `${base}.coco.json`,
        contentType: 'application/json',
        content: JSON.stringify(coco),
        count: rows.length,
      };
    }
  }
}
