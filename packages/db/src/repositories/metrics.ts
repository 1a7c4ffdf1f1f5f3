import type { MetricSnapshot, PrismaClient, Split } from '../generated/prisma/client.ts';

export interface NewSnapshot {
  projectId: string;
  roundId: string;
  headVersionId: string;
  split: Split;
  humanLabels: number;
  macroF1: number;
  microF1: number;
  accuracy: number;
  details: object;
}

/** Metric snapshots: a head's evaluation at the end of a round. */
export class MetricRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores a round's snapshot of a head once; a retried evaluation keeps the first. */
  async recordOnce(snapshot: NewSnapshot): Promise<void> {
    const exists = await this.prisma.metricSnapshot.findFirst({
      where: { roundId: snapshot.roundId, headVersionId: snapshot.headVersionId },
    });
    if (!exists) await this.prisma.metricSnapshot.create({ data: snapshot });
  }

  latestOfHead(headVersionId: string): Promise<MetricSnapshot | null> {
    return this.prisma.metricSnapshot.findFirst({
      where: { headVersionId },
      orderBy: { createdAt: 'desc' },
    });
  }

  latestOfRound(roundId: string): Promise<MetricSnapshot | null> {
    return this.prisma.metricSnapshot.findFirst({
      where: { roundId },
      orderBy: { createdAt: 'desc' },
    });
  }

  latestOfProject(projectId: string): Promise<MetricSnapshot | null> {
    return this.prisma.metricSnapshot.findFirst({
      where: { projectId },
      orderBy: { createdAt: 'desc' },
    });
  }

  /** Oldest first, for charts over time. */
  ofProject(projectId: string): Promise<MetricSnapshot[]> {
    return this.prisma.metricSnapshot.findMany({
      where: { projectId },
      orderBy: { createdAt: 'asc' },
    });
  }
}
