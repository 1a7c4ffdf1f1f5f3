import { AppError } from '@beanstalk/shared';
import type {
  Campaign,
  PrismaClient,
  Round,
  RoundStatus,
  CampaignStatus,
} from '../generated/prisma/client.ts';
import { asModel, UNIQUE_VIOLATION, type Queryable } from '../queryable.ts';

/** Active-learning rounds and the campaigns that run them one after another. */
export class RoundRepository {
  constructor(
    private readonly db: Queryable,
    private readonly prisma: PrismaClient,
  ) {}

  /**
   * The round of a workflow: created (numbered after the project's last round) on the first
   * call, returned as it is when the workflow's activity retries.
   */
  async open(input: {
    projectId: string;
    workflowId: string;
    campaignId?: string | null;
  }): Promise<Round> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.prisma.round.findUnique({
        where: { workflowId: input.workflowId },
      });
      if (existing) return existing;
      const last = await this.prisma.round.aggregate({
        where: { projectId: input.projectId },
        _max: { number: true },
      });
      try {
        return await this.prisma.round.create({
          data: {
            projectId: input.projectId,
            campaignId: input.campaignId ?? null,
            workflowId: input.workflowId,
            number: (last._max.number ?? 0) + 1,
          },
        });
      } catch (error) {
        // Another round of the project took the number meanwhile: count again.
        if ((error as { code?: string }).code !== 'P2002' || attempt >= 5) throw error;
      }
    }
  }

  async byId(id: string): Promise<Round | null> {
    return this.prisma.round.findUnique({ where: { id } }).catch(() => null);
  }

  async get(id: string): Promise<Round> {
    const round = await this.byId(id);
    if (!round) throw new AppError('NOT_FOUND', `round ${id} does not exist`);
    return round;
  }

  async byIds(ids: readonly string[]): Promise<Round[]> {
    const { rows } = await this.db.query('SELECT * FROM rounds WHERE id = ANY($1::uuid[])', [ids]);
    return rows.map((r) => asModel<Round>(r)!);
  }

  /** Newest first. */
  ofProject(projectId: string): Promise<Round[]> {
    return this.prisma.round.findMany({ where: { projectId }, orderBy: { number: 'desc' } });
  }

  ofCampaign(campaignId: string): Promise<Round[]> {
    return this.prisma.round.findMany({ where: { campaignId }, orderBy: { number: 'asc' } });
  }

  async setStatus(id: string, status: RoundStatus): Promise<void> {
    await this.prisma.round.update({ where: { id }, data: { status } });
  }

  async recordLabelsReceived(id: string, labelsReceived: number): Promise<void> {
    await this.prisma.round.update({ where: { id }, data: { labelsReceived } });
  }

  async recordAutoAccept(
    id: string,
    result: { accepted: number; threshold: number | null },
  ): Promise<void> {
    await this.prisma.round.update({
      where: { id },
      data: { autoAccepted: result.accepted, autoThreshold: result.threshold },
    });
  }

  async finish(
    id: string,
    input: { status: RoundStatus; labelsReceived: number; note: string | null },
  ): Promise<Round> {
    return this.prisma.round.update({
      where: { id },
      data: {
        status: input.status,
        endedAt: new Date(),
        labelsReceived: input.labelsReceived,
        note: input.note,
      },
    });
  }

  /** Registers a campaign; refused while another campaign of the project is running. */
  async openCampaign(input: { projectId: string; workflowId: string }): Promise<Campaign> {
    const mine = await this.prisma.campaign.findUnique({ where: { workflowId: input.workflowId } });
    if (mine) return mine;
    const running = await this.prisma.campaign.findFirst({
      where: { projectId: input.projectId, status: 'RUNNING' },
    });
    if (running) {
      throw new AppError(
        'CONFLICT',
        `project ${input.projectId} already has a running campaign (${running.workflowId})`,
      );
    }
    try {
      return await this.prisma.campaign.create({
        data: { projectId: input.projectId, workflowId: input.workflowId },
      });
    } catch (error) {
      if (
        (error as { code?: string }).code === 'P2002' ||
        (error as { code?: string }).code === UNIQUE_VIOLATION
      ) {
        throw new AppError('CONFLICT', `campaign ${input.workflowId} exists already`);
      }
      throw error;
    }
  }

  async closeCampaign(
    id: string,
    input: { status: CampaignStatus; reason: string },
  ): Promise<void> {
    await this.prisma.campaign.update({
      where: { id },
      data: { status: input.status, stopReason: input.reason, endedAt: new Date() },
    });
  }

  /** A project's latest campaign. */
  latestCampaign(projectId: string): Promise<Campaign | null> {
    return this.prisma.campaign.findFirst({
      where: { projectId },
      orderBy: { startedAt: 'desc' },
    });
  }
}
