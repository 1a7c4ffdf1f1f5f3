import { AppError } from '@beanstalk/shared';
import type { Prisma, PrismaClient, Project } from '../generated/prisma/client.ts';
import { asModel, transaction, type Queryable } from '../queryable.ts';

/** Settings a project's managers may change. */
export type ProjectSettings = Partial<
  Pick<
    Project,
    | 'name'
    | 'description'
    | 'k'
    | 'roundSize'
    | 'targetMacroF1'
    | 'autoAcceptEnabled'
    | 'autoAcceptPrecisionTarget'
    | 'promotionTolerance'
    | 'taskLeaseSeconds'
    | 'evalLabelTarget'
    | 'skipNearDuplicates'
    | 'linkNearDuplicates'
    | 'secondOpinions'
    | 'selectionStrategy'
    | 'goldRate'
    | 'goldAccuracyWarning'
  >
>;

export interface NewClass {
  name: string;
  colour?: string;
  hotkey?: string | null;
  isNormal?: boolean;
}

export interface ItemCounts {
  total: number;
  pool: number;
  eval: number;
  gold: number;
  labeled: number;
  evalLabeled: number;
}

/** Projects: settings, which encoder and head answer for them, and their item counts. */
export class ProjectRepository {
  constructor(
    private readonly db: Queryable,
    private readonly prisma: PrismaClient,
  ) {}

  /** By slug with plain pg: every API request starts here. */
  async bySlug(slug: string): Promise<Project | null> {
    const { rows } = await this.db.query('SELECT * FROM projects WHERE slug = $1', [slug]);
    return asModel<Project>(rows[0]);
  }

  async byId(id: string): Promise<Project | null> {
    const { rows } = await this.db.query('SELECT * FROM projects WHERE id = $1', [id]);
    return asModel<Project>(rows[0]);
  }

  /** By id or NOT_FOUND. */
  async get(id: string): Promise<Project> {
    const project = await this.byId(id);
    if (!project) throw new AppError('NOT_FOUND', `project ${id} does not exist`);
    return project;
  }

  /** Rows by id (any order; unknown ids are absent). */
  async byIds(ids: readonly string[]): Promise<Project[]> {
    const { rows } = await this.db.query('SELECT * FROM projects WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    return rows.map((r) => asModel<Project>(r)!);
  }

  /** Newest first; `ids` limits the list to those projects. */
  list(ids?: string[]): Promise<Project[]> {
    return this.prisma.project.findMany({
      where: ids ? { id: { in: ids } } : {},
      orderBy: { createdAt: 'desc' },
    });
  }

  count(): Promise<number> {
    return this.prisma.project.count();
  }

  /** A new project with its classes (positions in the order given); CONFLICT on a taken slug. */
  async create(input: {
    slug: string;
    name: string;
    description?: string;
    settings?: ProjectSettings;
    classes: (NewClass & { colour?: string })[];
    /** Labels in the first budget entry (none when 0 or absent). */
    budget?: number;
    /** Who becomes the project's admin (its creator, when not a platform admin). */
    adminUserId?: string | null;
    /** A simulation (benchmark, demo): its items may carry hidden ground truth. */
    simulation?: boolean;
  }): Promise<Project> {
    if (await this.bySlug(input.slug)) {
      throw new AppError('CONFLICT', `a project "${input.slug}" already exists`, {
        fields: { slug: `a project "${input.slug}" already exists` },
      });
    }
    // One statement: the project, its classes, first budget and creator's role, or none.
    return this.prisma.project.create({
      data: {
        slug: input.slug,
        name: input.name,
        description: input.description ?? '',
        simulation: input.simulation ?? false,
        ...input.settings,
        labelClasses: { create: input.classes.map((c, position) => ({ ...c, position })) },
        ...(input.budget
          ? {
              budgetEvents: {
                create: {
                  amount: input.budget,
                  reason: 'first budget, set when the project was created',
                  userId: input.adminUserId ?? null,
                },
              },
            }
          : {}),
        ...(input.adminUserId
          ? { memberships: { create: { userId: input.adminUserId, role: 'ADMIN' } } }
          : {}),
      },
    });
  }

  /** Finds a project by slug or creates it; never changes an existing project's settings. */
  /** The project with this slug, created when missing (`simulation` marks demo datasets). */
  async ensure(
    slug: string,
    name: string,
    description = '',
    options: { simulation?: boolean } = {},
  ): Promise<{ id: string; created: boolean }> {
    const existing = await this.bySlug(slug);
    if (existing) return { id: existing.id, created: false };
    const project = await this.prisma.project.upsert({
      where: { slug },
      create: { slug, name, description, simulation: options.simulation ?? false },
      update: {},
    });
    return { id: project.id, created: true };
  }

  update(id: string, settings: ProjectSettings): Promise<Project> {
    return this.prisma.project.update({
      where: { id },
      data: settings as Prisma.ProjectUpdateInput,
    });
  }

  /** Gives a project its first encoder; a project that has one keeps it. */
  async setEncoderIfNone(projectId: string, encoderVersionId: string): Promise<void> {
    await this.prisma.project.updateMany({
      where: { id: projectId, encoderVersionId: null },
      data: { encoderVersionId },
    });
  }

  /**
   * Switches a project to another encoder in one transaction: the project row is locked, no
   * round may be running (its head would mix encoders), every readable item must have the
   * encoder's features; heads on other encoders are retired and the active head cleared, so
   * kNN and `classify` answer again once the next round has trained a head on the new
   * features. Labels are untouched. Returns the encoder it replaced.
   */
  switchEncoder(projectId: string, encoderVersionId: string): Promise<string | null> {
    return transaction(this.db, async (c) => {
      const { rows } = await c.query<{ encoder_version_id: string | null; slug: string }>(
        'SELECT encoder_version_id, slug FROM projects WHERE id = $1 FOR UPDATE',
        [projectId],
      );
      const project = rows[0];
      if (!project) throw new AppError('NOT_FOUND', `project ${projectId} does not exist`);
      const previous = project.encoder_version_id;
      if (previous === encoderVersionId) return previous;
      const running = await c.query<{ number: number }>(
        `SELECT number FROM rounds WHERE project_id = $1
            AND status NOT IN ('COMPLETED', 'CANCELLED', 'FAILED') ORDER BY number LIMIT 1`,
        [projectId],
      );
      if (running.rows[0]) {
        throw new AppError(
          'CONFLICT',
          `round ${running.rows[0].number} of ${project.slug} is running; the encoder can be switched once it has ended`,
          { reason: 'ROUND_RUNNING' },
        );
      }
      const missing = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM items i
          WHERE i.project_id = $1 AND NOT (i.metadata ? 'unreadable')
            AND NOT EXISTS (SELECT 1 FROM item_features f
                             WHERE f.encoder_version_id = $2 AND f.item_id = i.id)`,
        [projectId, encoderVersionId],
      );
      if (missing.rows[0]!.n > 0) {
        throw new AppError(
          'CONFLICT',
          `${missing.rows[0]!.n} items of ${project.slug} have no features from encoder ${encoderVersionId} yet; embed them first`,
          { reason: 'NOT_EMBEDDED', missing: missing.rows[0]!.n },
        );
      }
      await c.query(
        `UPDATE head_versions SET status = 'RETIRED', retired_at = now(),
                note = 'retired: the project switched encoders'
          WHERE project_id = $1 AND encoder_version_id <> $2 AND status <> 'RETIRED'`,
        [projectId, encoderVersionId],
      );
      await c.query(
        `UPDATE projects SET encoder_version_id = $2, active_head_version_id = NULL,
                            search_head_version_id = NULL,
                updated_at = now() WHERE id = $1`,
        [projectId, encoderVersionId],
      );
      return previous;
    });
  }

  async itemCounts(projectId: string): Promise<ItemCounts> {
    const { rows } = await this.db.query<Record<string, string>>(
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE split = 'POOL') AS pool,
              count(*) FILTER (WHERE split = 'EVAL') AS eval,
              count(*) FILTER (WHERE split = 'GOLD') AS gold,
              (SELECT count(*) FROM current_labels
                WHERE project_id = $1 AND label_class_id IS NOT NULL) AS labeled,
              (SELECT count(*) FROM current_labels l JOIN items i ON i.id = l.item_id
                WHERE l.project_id = $1 AND i.split = 'EVAL' AND l.label_class_id IS NOT NULL
                  AND l.source <> 'AUTO') AS eval_labeled
         FROM items WHERE project_id = $1`,
      [projectId],
    );
    const r = rows[0]!;
    return {
      total: Number(r.total),
      pool: Number(r.pool),
      eval: Number(r.eval),
      gold: Number(r.gold),
      labeled: Number(r.labeled),
      evalLabeled: Number(r.eval_labeled),
    };
  }
}
