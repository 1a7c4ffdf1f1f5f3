import type { PrismaClient } from '@beanstalk/db';

export interface SeededProject {
  projectId: string;
  classIds: string[];
  itemIds: string[];
}

/** A project with `classes` label classes and `items` placeholder items (no blobs). */
export async function seedProject(
  prisma: PrismaClient,
  options: { classes?: number; items?: number; slug?: string } = {},
): Promise<SeededProject> {
  const slug = options.slug ?? `p-${Math.random().toString(36).slice(2, 10)}`;
  const project = await prisma.project.create({ data: { slug, name: slug } });
  const classIds: string[] = [];
  for (let i = 0; i < (options.classes ?? 3); i++) {
    const c = await prisma.labelClass.create({
      data: { projectId: project.id, name: `class-${i}`, position: i },
    });
    classIds.push(c.id);
  }
  const items = Array.from({ length: options.items ?? 10 }, (_, i) => ({
    projectId: project.id,
    contentHash: `${slug}-${String(i).padStart(6, '0')}`,
    blobKey: `${slug}-${i}`,
    mimeType: 'image/png',
    width: 28,
    height: 28,
    channels: 1,
    split: i % 5 === 4 ? ('EVAL' as const) : ('POOL' as const),
  }));
  await prisma.item.createMany({ data: items });
  const created = await prisma.item.findMany({
    where: { projectId: project.id },
    orderBy: { contentHash: 'asc' },
    select: { id: true },
  });
  return { projectId: project.id, classIds, itemIds: created.map((c) => c.id) };
}
