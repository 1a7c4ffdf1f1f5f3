import type { Database, ExportedLabel } from '@beanstalk/db';
import type { ExportFormat } from '../generated/graphql.ts';

/**
 * One CSV cell. Text that a spreadsheet would run as a formula (starting with = + - @, tab or
 * carriage return: file names come from uploaders) gets a leading apostrophe (OWASP's advice).
 */
const csvField = (v: unknown) => {
  let s = v === null || v === undefined ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** A project's current labels as a file; items are identified by image content hash. */
export async function exportLabels(
  db: Database,
  project: { id: string; slug: string },
  format: ExportFormat,
) {
  const rows = await db.labels.forExport(project.id);
  const record = (r: ExportedLabel) => ({
    contentHash: r.contentHash,
    itemId: r.itemId,
    sourceRef: r.sourceRef,
    split: r.split,
    label: r.className,
    source: r.source,
    confidence: r.confidence,
    labeledAt: r.labeledAt.toISOString(),
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
      const classes = await db.classes.ofProject(project.id);
      const coco = {
        info: { description: `${project.slug} labels`, date_created: new Date().toISOString() },
        categories: classes.map((c) => ({ id: c.position, name: c.name })),
        images: rows.map((r, i) => ({
          id: i,
          file_name: r.sourceRef ?? r.contentHash,
          sha256: r.contentHash,
        })),
        annotations: rows.map((r, i) => ({
          id: i,
          image_id: i,
          category_id: r.classPosition,
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
