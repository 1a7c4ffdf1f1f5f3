import type { PrismaClient } from '@beanstalk/db';
import type { ImportIssue } from './item-writer.ts';
import type { ImportSummary } from './progress.ts';

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
    private readonly prisma: PrismaClient,
    readonly id: string,
    readonly projectId: string,
  ) {}

  static async start(prisma: PrismaClient, projectId: string, source: string) {
    const run = await prisma.importRun.create({ data: { projectId, source } });
    return new ImportRunRecorder(prisma, run.id, projectId);
  }

  get failed(): number {
    return this.errors.length;
  }

  async finish(status: 'COMPLETED' | 'FAILED'): Promise<ImportSummary> {
    await this.prisma.importRun.update({
      where: { id: this.id },
      data: {
        status,
        total: this.total,
        imported: this.imported,
        duplicates: this.duplicates,
        failed: this.failed,
        errors: [
          ...this.errors.map((e) => ({ ...e, kind: 'failed' })),
          ...this.labelConflicts.map((e) => ({ ...e, kind: 'label-conflict' })),
        ],
        endedAt: new Date(),
      },
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
