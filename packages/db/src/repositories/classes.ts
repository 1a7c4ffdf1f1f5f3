import { AppError } from '@beanstalk/shared';
import type { LabelClass, PrismaClient } from '../generated/prisma/client.ts';
import { asModel, type Queryable } from '../queryable.ts';
import type { NewClass } from './projects.ts';

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

/** A project's classes in position order and each class's index there (its index in models). */
export interface ClassIndex {
  classes: LabelClass[];
  indexOf: Map<string, number>;
}

/** Label classes of projects (a class's position is its index in every model). */
export class LabelClassRepository {
  constructor(
    private readonly db: Queryable,
    private readonly prisma: PrismaClient,
  ) {}

  /** A project's classes in position order, retired ones included (models keep their index). */
  async ofProject(projectId: string): Promise<LabelClass[]> {
    const { rows } = await this.db.query(
      'SELECT * FROM label_classes WHERE project_id = $1 ORDER BY position',
      [projectId],
    );
    return rows.map((r) => asModel<LabelClass>(r)!);
  }

  async index(projectId: string): Promise<ClassIndex> {
    const classes = await this.ofProject(projectId);
    return { classes, indexOf: new Map(classes.map((c, i) => [c.id, i])) };
  }

  async byIds(ids: readonly string[]): Promise<LabelClass[]> {
    const { rows } = await this.db.query('SELECT * FROM label_classes WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    return rows.map((r) => asModel<LabelClass>(r)!);
  }

  byId(id: string): Promise<LabelClass | null> {
    return this.prisma.labelClass.findUnique({ where: { id } });
  }

  /** Adds a class after the project's last one. */
  async add(projectId: string, input: NewClass): Promise<LabelClass> {
    const last = await this.prisma.labelClass.findFirst({
      where: { projectId },
      orderBy: { position: 'desc' },
    });
    return this.prisma.labelClass.create({
      data: { ...input, projectId, position: (last?.position ?? -1) + 1 },
    });
  }

  update(id: string, input: Partial<NewClass>): Promise<LabelClass> {
    return this.prisma.labelClass.update({ where: { id }, data: input });
  }

  /** A retired class takes no new labels; its past labels and its model index stay. */
  async retire(id: string): Promise<LabelClass> {
    const found = await this.byId(id);
    if (!found) throw new AppError('NOT_FOUND', `class ${id} does not exist`);
    if (found.retiredAt) return found;
    return this.prisma.labelClass.update({ where: { id }, data: { retiredAt: new Date() } });
  }

  /**
   * Returns the ids of the named classes, creating the missing ones after the existing ones
   * (position, colour and a digit hotkey follow creation order).
   */
  ensure(projectId: string, names: string[]): Promise<Map<string, string>> {
    return this.prisma.$transaction(async (tx) => {
      const existing = await tx.labelClass.findMany({
        where: { projectId },
        orderBy: { position: 'asc' },
      });
      const byName = new Map(existing.map((c) => [c.name, c.id]));
      let position = existing.length === 0 ? 0 : existing[existing.length - 1]!.position + 1;
      for (const name of names) {
        if (byName.has(name)) continue;
        const created = await tx.labelClass.create({
          data: {
            projectId,
            name,
            position,
            colour: PALETTE[position % PALETTE.length]!,
            hotkey: position < 10 ? String(position) : null,
          },
        });
        byName.set(name, created.id);
        position += 1;
      }
      return byName;
    });
  }
}
