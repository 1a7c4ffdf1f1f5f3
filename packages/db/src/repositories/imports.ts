import type { PrismaClient } from '../generated/prisma/client.ts';

/** One importer run (a dataset, a folder), so its outcome outlives the terminal. */
export class ImportRunRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async start(projectId: string, source: string): Promise<string> {
    return (await this.prisma.importRun.create({ data: { projectId, source } })).id;
  }

  async finish(
    id: string,
    outcome: {
      status: 'COMPLETED' | 'FAILED';
      total: number;
      imported: number;
      duplicates: number;
      failed: number;
      errors: object[];
    },
  ): Promise<void> {
    await this.prisma.importRun.update({
      where: { id },
      data: { ...outcome, endedAt: new Date() },
    });
  }
}
