import { AppError } from '@beanstalk/shared';

/**
 * Reads JSONL lines `{ "contentHash": ..., "label": <class name> }` (what exportLabels
 * writes); a line that is not one is refused with its number.
 */
export function parseLabelLines(jsonl: string): { contentHash: string; label: string }[] {
  return jsonl
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line, i) => {
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
}
