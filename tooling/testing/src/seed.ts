import path from 'node:path';
import { registerEncoder } from '@beanstalk/activities';
import { repoRoot } from '@beanstalk/config';
import type { Pool, PrismaClient } from '@beanstalk/db';
import { importFashionMnist } from '@beanstalk/ingest';
import type { BlobStore } from '@beanstalk/storage';

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

/**
 * A Fashion-MNIST project (the first `limit` train images as the pool, the first `limit` test
 * images as eval, truth hidden) with the default encoder registered and `budget` labels.
 */
export async function seedFashionMnist(
  deps: { prisma: PrismaClient; pool: Pool; blobs: BlobStore },
  options: { limit?: number; budget: number; slug?: string },
): Promise<{ projectId: string; encoderVersionId: string }> {
  const slug = options.slug ?? `fm-${Math.random().toString(36).slice(2, 8)}`;
  await importFashionMnist(deps, { slug, limit: options.limit });
  const project = await deps.prisma.project.findUniqueOrThrow({ where: { slug } });
  const encoderVersionId = await registerEncoder(deps, {
    modelDir: path.join(repoRoot, 'models/fashion-mnist-dae'),
    name: 'fashion-mnist-dae',
    projectId: project.id,
  });
  await deps.prisma.budgetEvent.create({
    data: { projectId: project.id, amount: options.budget, reason: 'test budget' },
  });
  return { projectId: project.id, encoderVersionId };
}

/** The class a simulated labeler answers for an item: its hidden truth. */
export async function hiddenClassOf(prisma: PrismaClient, itemId: string): Promise<string> {
  const truth = await prisma.hiddenTruth.findUniqueOrThrow({ where: { itemId } });
  return truth.labelClassId;
}
