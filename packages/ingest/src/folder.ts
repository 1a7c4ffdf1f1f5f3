import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Database, Split } from '@beanstalk/db';
import { AppError, isAppError } from '@beanstalk/shared';
import type { BlobStore } from '@beanstalk/storage';
import { inspectImage, MAX_IMAGE_BYTES } from './images.ts';
import { ImportRunRecorder } from './import-run.ts';
import { writeItems, type ImageCandidate } from './item-writer.ts';
import type { ImportSummary, ProgressListener } from './progress.ts';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

export interface FolderImportOptions {
  folder: string;
  slug: string;
  name?: string;
  split?: Split;
  /** 'folders': the first sub-folder under `folder` names the class; 'csv': see csvFile. */
  labelsFrom?: 'none' | 'folders' | 'csv';
  /** CSV with a header row and columns `file` (relative to folder) and `label`. */
  csvFile?: string;
  batchSize?: number;
  onProgress?: ProgressListener;
}

async function listImages(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.relative(folder, path.join(e.parentPath, e.name)))
    .sort();
}

async function readCsvLabels(csvFile: string): Promise<Map<string, string>> {
  const records: Record<string, string>[] = parse(await readFile(csvFile), {
    columns: true,
    skip_empty_lines: true,
    trim: true,
  });
  if (records.length > 0 && !('file' in records[0]! && 'label' in records[0]!)) {
    throw new AppError('BAD_USER_INPUT', `${csvFile}: needs a header row with columns file,label`);
  }
  return new Map(records.filter((r) => r.label).map((r) => [path.normalize(r.file!), r.label!]));
}

/**
 * Imports a folder of PNG/JPEG/WebP images, with labels optionally taken from sub-folder
 * names or a CSV. Each unreadable image is reported with its path and reason and skipped.
 */
export async function importFolder(
  deps: { db: Database; blobs: BlobStore },
  options: FolderImportOptions,
): Promise<ImportSummary> {
  const folder = path.resolve(options.folder);
  if (!(await stat(folder).catch(() => null))?.isDirectory()) {
    throw new AppError('BAD_USER_INPUT', `${folder} is not a folder`);
  }
  const labelsFrom = options.labelsFrom ?? 'none';
  if (labelsFrom === 'csv' && !options.csvFile) {
    throw new AppError('BAD_USER_INPUT', 'labels from csv needs a CSV file');
  }
  const csvLabels = labelsFrom === 'csv' ? await readCsvLabels(options.csvFile!) : new Map();
  const files = await listImages(folder);
  const labelOf = (file: string): string | undefined => {
    if (labelsFrom === 'folders') {
      const parts = file.split(path.sep);
      return parts.length > 1 ? parts[0] : undefined;
    }
    return csvLabels.get(path.normalize(file));
  };
  const project = await deps.db.projects.ensure(options.slug, options.name ?? options.slug);
  const classNames = [...new Set(files.map(labelOf).filter((l): l is string => !!l))].sort();
  const classIds = await deps.db.classes.ensure(project.id, classNames);
  const run = await ImportRunRecorder.start(deps.db, project.id, `folder:${folder}`);
  run.total = files.length;
  const batchSize = options.batchSize ?? 200;
  return run.track(async () => {
    for (let start = 0; start < files.length; start += batchSize) {
      const slice = files.slice(start, start + batchSize);
      const candidates = await Promise.all(
        slice.map(async (file): Promise<ImageCandidate | null> => {
          const full = path.join(folder, file);
          try {
            const size = (await stat(full)).size;
            if (size > MAX_IMAGE_BYTES) {
              throw new AppError(
                'BAD_USER_INPUT',
                `${file}: ${size} bytes is over the ${MAX_IMAGE_BYTES}-byte limit`,
              );
            }
            const bytes = await readFile(full);
            const info = await inspectImage(bytes, file);
            const label = labelOf(file);
            return {
              bytes,
              info,
              split: options.split ?? 'POOL',
              sourceRef: file,
              ...(label ? { importClassId: classIds.get(label)! } : {}),
            };
          } catch (error) {
            if (!isAppError(error)) throw error;
            run.errors.push({ file, reason: error.message.replace(`${file}: `, '') });
            return null;
          }
        }),
      );
      const valid = candidates.filter((c): c is ImageCandidate => c !== null);
      run.add(await writeItems(deps, project.id, valid));
      options.onProgress?.(run.progress('folder', Math.min(files.length, start + slice.length)));
    }
  });
}
