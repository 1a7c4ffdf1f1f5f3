import { AppError } from '@beanstalk/shared';
import type {
  Campaign,
  PrismaClient,
  Round,
  RoundStatus,
  CampaignStatus,
} from '../generated/prisma/client.ts';
import { asModel, transaction, UNIQUE_VIOLATION, type Queryable } from '../queryable.ts';
import { TaskRepository, type TaskCounts } from './tasks.ts';
import { VectorSetRepository } from './vector-sets.ts';

const ENDED: RoundStatus[] = ['COMPLETED', 'CANCELLED', 'FAILED'];

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

  /** A project's newest round. */
  latestOfProject(projectId: string): Promise<Round | null> {
    return this.prisma.round.findFirst({ where: { projectId }, orderBy: { number: 'desc' } });
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

  /**
   * Sets eval items aside from auto-accept's calibration (see CalibrationSpent in the schema):
   * those the accepting round's references voted on at or above its threshold. Kept at the
   * first round that set each aside.
   */
  async spendCalibration(roundId: string, itemIds: string[]): Promise<void> {
    await this.db.query(
      `INSERT INTO calibration_spent (item_id, round_id)
       SELECT x, $1 FROM unnest($2::uuid[]) AS x
       ON CONFLICT (item_id) DO NOTHING`,
      [roundId, itemIds],
    );
  }

  /** The project's eval items auto-accept no longer calibrates on. */
  async spentCalibration(projectId: string): Promise<Set<string>> {
    const { rows } = await this.db.query<{ item_id: string }>(
      `SELECT s.item_id FROM calibration_spent s JOIN rounds r ON r.id = s.round_id
        WHERE r.project_id = $1`,
      [projectId],
    );
    return new Set(rows.map((r) => r.item_id));
  }

  async recordAutoAccept(
    id: string,
    result: { accepted: number; threshold: number | null; lowerBound: number | null },
  ): Promise<void> {
    await this.prisma.round.update({
      where: { id },
      data: {
        autoAccepted: result.accepted,
        autoThreshold: result.threshold,
        autoPrecisionBound: result.lowerBound,
      },
    });
  }

  /**
   * Ends a round in one transaction: unfinished tasks expire (budget released, items back in
   * the pool); when it did not complete, a trained head that was never promoted is retired
   * and its vector set dropped, so nothing is left half-built. A round already ended stays as
   * it is (the workflow's close and the reaper may both try).
   */
  close(
    id: string,
    input: { status: 'COMPLETED' | 'CANCELLED' | 'FAILED'; note?: string | null },
  ): Promise<TaskCounts> {
    return transaction(this.db, async (client) => {
      const { rows } = await client.query<{ status: RoundStatus; active: string | null }>(
        `SELECT r.status, p.active_head_version_id AS active
           FROM rounds r JOIN projects p ON p.id = r.project_id
          WHERE r.id = $1 FOR UPDATE OF r`,
        [id],
      );
      const round = rows[0];
      if (!round) throw new AppError('NOT_FOUND', `round ${id} does not exist`);
      const tasks = new TaskRepository(client);
      if (ENDED.includes(round.status)) return tasks.counts(id);
      const expired = await tasks.expire(id, { allOpen: true });
      if (input.status !== 'COMPLETED') {
        const head = await client.query<{ id: string }>(
          `UPDATE head_versions SET status = 'RETIRED', retired_at = now(), note = $2
            WHERE round_id = $1 AND id IS DISTINCT FROM $3 RETURNING id`,
          [id, `round ${input.status.toLowerCase()}`, round.active],
        );
        if (head.rows[0]) await new VectorSetRepository(client).drop(head.rows[0].id);
      }
      const counts = await tasks.counts(id);
      const note =
        [input.note, expired ? `${expired} unfinished tasks expired` : null]
          .filter(Boolean)
          .join('; ') || null;
      await client.query(
        `UPDATE rounds SET status = $2, ended_at = now(), labels_received = $3, note = $4
          WHERE id = $1`,
        [id, input.status, counts.done, note],
      );
      return counts;
    });
  }

  /** Rounds that have not ended, with their workflow ids (what the reaper looks at). */
  async unfinished(): Promise<{ id: string; workflowId: string | null; startedAt: Date }[]> {
    const { rows } = await this.db.query<{
      id: string;
      workflow_id: string | null;
      started_at: Date;
    }>(
      `SELECT id, workflow_id, started_at FROM rounds
        WHERE status NOT IN ('COMPLETED', 'CANCELLED', 'FAILED') ORDER BY started_at`,
    );
    return rows.map((r) => ({ id: r.id, workflowId: r.workflow_id, startedAt: r.started_at }));
  }

  /**
   * Registers a campaign (or returns the one of this workflow id: a retried activity); refused
   * while another campaign of the project is running, by the database's one-running index.
   */
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
      // The one-running-campaign index, or the workflow id, taken by a start at the same time.
      const code = (error as { code?: string }).code;
      if (code === 'P2002' || code === UNIQUE_VIOLATION) {
        throw new AppError(
          'CONFLICT',
          `project ${input.projectId} already has a campaign running; cancel it or wait for it to end`,
        );
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

  /** Campaigns marked running, of every project. */
  runningCampaigns(): Promise<Campaign[]> {
    return this.prisma.campaign.findMany({ where: { status: 'RUNNING' } });
  }

  /** A project's running campaign, if any. */
  runningCampaign(projectId: string): Promise<Campaign | null> {
    return this.prisma.campaign.findFirst({ where: { projectId, status: 'RUNNING' } });
  }

  /** How many campaigns a project has had (the next one's number is this plus one). */
  countCampaigns(projectId: string): Promise<number> {
    return this.prisma.campaign.count({ where: { projectId } });
  }

  /** A project's latest campaign. */
  latestCampaign(projectId: string): Promise<Campaign | null> {
    return this.prisma.campaign.findFirst({
      where: { projectId },
      orderBy: { startedAt: 'desc' },
    });
  }
}
