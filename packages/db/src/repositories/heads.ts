import { AppError } from '@beanstalk/shared';
import type { HeadKind, HeadVersion, PrismaClient } from '../generated/prisma/client.ts';
import { asModel, transaction, type Queryable } from '../queryable.ts';
import { VectorSetRepository } from './vector-sets.ts';

export interface NewHead {
  projectId: string;
  encoderVersionId: string;
  roundId?: string | null;
  kind: HeadKind;
  inputDims: number;
  outputDims: number;
  weights: Uint8Array;
  config: object;
  metrics?: object;
}

/** Projection head versions: weights, metrics, and which one answers for a project. */
export class HeadRepository {
  constructor(
    private readonly db: Queryable,
    private readonly prisma: PrismaClient,
  ) {}

  async byId(id: string): Promise<HeadVersion | null> {
    const { rows } = await this.db.query('SELECT * FROM head_versions WHERE id = $1', [id]);
    return asModel<HeadVersion>(rows[0]);
  }

  async get(id: string): Promise<HeadVersion> {
    const head = await this.byId(id);
    if (!head) throw new AppError('NOT_FOUND', `head version ${id} does not exist`);
    return head;
  }

  async byIds(ids: readonly string[]): Promise<HeadVersion[]> {
    const { rows } = await this.db.query('SELECT * FROM head_versions WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    return rows.map((r) => asModel<HeadVersion>(r)!);
  }

  byRound(roundId: string): Promise<HeadVersion | null> {
    return this.prisma.headVersion.findUnique({ where: { roundId } });
  }

  /** Newest first. */
  ofProject(projectId: string): Promise<HeadVersion[]> {
    return this.prisma.headVersion.findMany({
      where: { projectId },
      orderBy: { createdAt: 'desc' },
    });
  }

  /** Stores a head; with a round, at most one per round (a retry gets the stored one). */
  create(head: NewHead & { status?: 'CANDIDATE' | 'ACTIVE' }): Promise<HeadVersion> {
    const data = {
      ...head,
      weights: new Uint8Array(head.weights),
      promotedAt: head.status === 'ACTIVE' ? new Date() : null,
    };
    if (!head.roundId) return this.prisma.headVersion.create({ data });
    return this.prisma.headVersion.upsert({
      where: { roundId: head.roundId },
      update: {},
      create: data,
    });
  }

  /** Takes a head out of use, saying why; its vector set is the caller's to drop. */
  async retire(id: string, note: string): Promise<void> {
    await this.prisma.headVersion.update({
      where: { id },
      data: { status: 'RETIRED', retiredAt: new Date(), note },
    });
  }

  /**
   * Makes a head the one answering for its project, in one transaction: its published vector
   * set swaps in atomically (scoring sees the old set or the new one; neighbour searches move
   * when its index is built, see VectorSetRepository.activate), it becomes ACTIVE with
   * the note (and evaluation, when given) and the head it replaces is RETIRED. The workflow's
   * promotion and a manager's promote or rollback all come here.
   */
  promote(id: string, input: { note: string; evaluation?: object }): Promise<HeadVersion> {
    return transaction(this.db, async (client) => {
      const head = await new HeadRepository(client, this.prisma).get(id);
      // A head's vectors come from its encoder's features: never serve them beside another's.
      const { rows: encoder } = await client.query<{ encoder_version_id: string | null }>(
        'SELECT encoder_version_id FROM projects WHERE id = $1 FOR UPDATE',
        [head.projectId],
      );
      if (encoder[0]?.encoder_version_id !== head.encoderVersionId) {
        throw new AppError(
          'CONFLICT',
          `head ${head.id} was trained on encoder ${head.encoderVersionId}; the project now uses ${encoder[0]?.encoder_version_id ?? 'none'}`,
        );
      }
      const sets = new VectorSetRepository(client);
      if ((await sets.state(head.id)) !== 'published') {
        throw new AppError(
          'CONFLICT',
          `head ${head.id} has no published vectors (it was never indexed, or its set was dropped)`,
        );
      }
      const previous = await sets.activate(head.projectId, head.id);
      if (previous && previous !== head.id) {
        await client.query(
          `UPDATE head_versions SET status = 'RETIRED', retired_at = now() WHERE id = $1`,
          [previous],
        );
      }
      const { rows } = await client.query(
        `UPDATE head_versions
            SET status = 'ACTIVE', promoted_at = now(), retired_at = NULL, note = $2,
                metrics = CASE WHEN $3::jsonb IS NULL THEN metrics
                               ELSE metrics || jsonb_build_object('eval', $3::jsonb) END
          WHERE id = $1 RETURNING *`,
        [head.id, input.note, input.evaluation ? JSON.stringify(input.evaluation) : null],
      );
      return asModel<HeadVersion>(rows[0])!;
    });
  }

  /** Promotes the most recent earlier head whose vector set is still published. */
  async rollback(projectId: string, note: string): Promise<HeadVersion> {
    const project = await this.prisma.project.findUniqueOrThrow({ where: { id: projectId } });
    const current = project.activeHeadVersionId
      ? await this.byId(project.activeHeadVersionId)
      : null;
    const candidates = await this.prisma.headVersion.findMany({
      where: {
        projectId,
        // Heads on the project's current encoder only (see promote).
        encoderVersionId: project.encoderVersionId ?? undefined,
        id: { not: current?.id },
        promotedAt: current?.promotedAt ? { lt: current.promotedAt } : { not: null },
      },
      orderBy: { promotedAt: 'desc' },
    });
    const sets = new VectorSetRepository(this.db);
    for (const candidate of candidates) {
      if ((await sets.state(candidate.id)) === 'published') {
        return this.promote(candidate.id, { note });
      }
    }
    throw new AppError('CONFLICT', 'no earlier head with published vectors to roll back to');
  }
}
