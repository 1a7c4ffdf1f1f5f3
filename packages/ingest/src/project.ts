import type { PrismaClient } from '@beanstalk/db';

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

/** Finds a project by slug or creates it; never changes an existing project's settings. */
export async function ensureProject(
  prisma: PrismaClient,
  slug: string,
  name: string,
  description = '',
): Promise<{ id: string; created: boolean }> {
  const existing = await prisma.project.findUnique({ where: { slug } });
  if (existing) return { id: existing.id, created: false };
  const project = await prisma.project.upsert({
    where: { slug },
    create: { slug, name, description },
    update: {},
  });
  return { id: project.id, created: true };
}

/**
 * Returns the ids of the named classes, creating the missing ones after the existing ones
 * (position, colour and a digit hotkey follow creation order).
 */
export async function ensureClasses(
  prisma: PrismaClient,
  projectId: string,
  names: string[],
): Promise<Map<string, string>> {
  return prisma.$transaction(async (tx) => {
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
