// What an upload from the browser sends, decided before any byte leaves: which files are
// images, which label each carries, and how they are cut into requests within the API's
// limits. Pure functions, so the rules are tested without a browser.

export interface UploadLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxRequestBytes: number;
}

export type LabelSource = 'none' | 'folders' | 'csv';

const IMAGE = /\.(png|jpe?g)$/i;
/** Files a folder carries that are not images and not worth a line in the failures. */
const NOISE = /(^|\/)(\.[^/]*|Thumbs\.db|desktop\.ini)$/i;
/** Room in each request for the operation, the map and the multipart headers. */
const OVERHEAD_BYTES = 64 * 1024;
const PART_HEADER_BYTES = 512;

export function isImagePath(path: string): boolean {
  return IMAGE.test(path);
}

export function isNoise(path: string): boolean {
  return NOISE.test(path);
}

/**
 * Classes from folder names, as the server's folder import reads them: the first folder below
 * the one chosen ("chosen/ok/a.png" -> "ok"). When several folders are dropped at once, each is
 * a class. Files directly in the chosen folder have none.
 */
export function folderLabels(paths: string[]): (string | null)[] {
  const split = paths.map((p) => p.split('/').filter(Boolean));
  const root = split[0]?.[0];
  const oneRoot =
    split.length > 0 && split.every((parts) => parts.length >= 2 && parts[0] === root);
  return split.map((parts) => {
    const rest = oneRoot ? parts.slice(1) : parts;
    return rest.length >= 2 ? rest[0]! : null;
  });
}

/** The base name of a path (what a CSV names). */
export function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

/**
 * Reads "file,class" lines (a header line naming them is skipped; quotes allowed). Files are
 * matched by base name. Problems come back with their line, nothing is guessed.
 */
export function parseLabelCsv(text: string): {
  labels: Map<string, string>;
  problems: string[];
} {
  const labels = new Map<string, string>();
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (i === 0 && /^(file|filename|image|path)$/i.test(cells[0] ?? '')) return;
    if (cells.length < 2 || !cells[0] || !cells[1]) {
      problems.push(`line ${i + 1}: expected "file,class"`);
      return;
    }
    const file = baseName(cells[0]);
    if (labels.has(file) && labels.get(file) !== cells[1]) {
      problems.push(`line ${i + 1}: ${file} is given two classes`);
    }
    labels.set(file, cells[1]);
  });
  return { labels, problems };
}

/** The label of each file under the chosen source (null when it has none). */
export function labelsFor(
  paths: string[],
  source: LabelSource,
  csv: Map<string, string> | null,
): (string | null)[] {
  if (source === 'folders') return folderLabels(paths);
  if (source === 'csv') return paths.map((p) => csv?.get(baseName(p)) ?? null);
  return paths.map(() => null);
}

/**
 * Cuts files into requests: each within the API's file count and request size, in the order
 * given. Files over the per-file limit are returned apart, to be reported without sending.
 */
export function planBatches<T extends { size: number }>(
  files: T[],
  limits: UploadLimits,
): { batches: T[][]; tooLarge: T[] } {
  const batches: T[][] = [];
  const tooLarge: T[] = [];
  const room = limits.maxRequestBytes - OVERHEAD_BYTES;
  let batch: T[] = [];
  let bytes = 0;
  for (const file of files) {
    const cost = file.size + PART_HEADER_BYTES;
    if (file.size > limits.maxFileBytes || cost > room) {
      tooLarge.push(file);
      continue;
    }
    if (batch.length > 0 && (batch.length >= limits.maxFiles || bytes + cost > room)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(file);
    bytes += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return { batches, tooLarge };
}

/**
 * Speed and time left from what is done so far; null until there is enough to say (a rate
 * from the first fraction of a second is noise).
 */
export function rateAndEta(
  doneBytes: number,
  totalBytes: number,
  elapsedSeconds: number,
): { bytesPerSecond: number; etaSeconds: number } | null {
  if (elapsedSeconds < 1 || doneBytes <= 0) return null;
  const bytesPerSecond = doneBytes / elapsedSeconds;
  return { bytesPerSecond, etaSeconds: Math.max(0, (totalBytes - doneBytes) / bytesPerSecond) };
}

/** Lowercase hex SHA-256 of a file's bytes: the content hash the API keys items by. */
export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
