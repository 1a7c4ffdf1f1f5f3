import type { Database } from '@beanstalk/db';
import type { ImportIssue, WriteResult } from './item-writer.ts';
import type { ImportProgress, ImportSummary } from './progress.ts';

/** Tracks one importer run in import_runs so its outcome outlives the terminal. */
export class ImportRunRecorder {
  total = 0;
  imported = 0;
  duplicates = 0;
  /** Files that could not be imported. */
  readonly errors: ImportIssue[] = [];
  /** Files imported (or already present) whose import label was not applied. */
  readonly labelConflicts: ImportIssue[] = [];

  private constructor(
    private readonly db: Database,
    readonly id: string,
    readonly projectId: string,
  ) {}

  static async start(db: Database, projectId: string, source: string) {
    return new ImportRunRecorder(db, await db.imports.start(projectId, source), projectId);
  }

  get failed(): number {
    return this.errors.length;
  }

  /** Counts one written batch. */
  add(written: WriteResult): void {
    this.imported += written.imported;
    this.duplicates += written.duplicates;
    this.labelConflicts.push(...written.issues);
  }

  progress(phase: string, done: number): ImportProgress {
    return {
      phase,
      done,
      total: this.total,
      imported: this.imported,
      duplicates: this.duplicates,
      failed: this.failed,
    };
  }

  /** Runs an importer's body and closes the record as COMPLETED, or FAILED if it throws. */
  async track(body: () => Promise<void>): Promise<ImportSummary> {
    try {
      await body();
    } catch (error) {
      await this.finish('FAILED');
      throw error;
    }
    return this.finish('COMPLETED');
  }

  async finish(status: 'COMPLETED' | 'FAILED'): Promise<ImportSummary> {
    await this.db.imports.finish(this.id, {
      status,
      total: this.total,
      imported: this.imported,
      duplicates: this.duplicates,
      failed: this.failed,
      errors: [
        ...this.errors.map((e) => ({ ...e, kind: 'failed' })),
        ...this.labelConflicts.map((e) => ({ ...e, kind: 'label-conflict' })),
      ],
    });
    return {
      importRunId: this.id,
      projectId: this.projectId,
      total: this.total,
      imported: this.imported,
      duplicates: this.duplicates,
      failed: this.failed,
      errors: this.errors,
      labelConflicts: this.labelConflicts,
    };
  }
}
