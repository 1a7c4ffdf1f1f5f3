import path from 'node:path';
import { repoRoot } from '@beanstalk/config';
import type { Database } from '@beanstalk/db';
import { importFashionMnist } from '@beanstalk/ingest';
import { registerEncoder } from '@beanstalk/model-runtime';
import type { BlobStore } from '@beanstalk/storage';

export interface SeededProject {
  projectId: string;
  classIds: string[];
  itemIds: string[];
}

/** A project with `classes` label classes and `items` placeholder items (no blobs). */
export async function seedProject(
  db: Database,
  options: { classes?: number; items?: number; slug?: string } = {},
): Promise<SeededProject> {
  const slug = options.slug ?? `p-${Math.random().toString(36).slice(2, 10)}`;
  const project = await db.projects.create({
    slug,
    name: slug,
    classes: Array.from({ length: options.classes ?? 3 }, (_, i) => ({ name: `class-${i}` })),
  });
  const classes = await db.classes.ofProject(project.id);
  const hashes = Array.from(
    { length: options.items ?? 10 },
    (_, i) => `${slug}-${String(i).padStart(6, '0')}`,
  );
  await db.items.insertBatch(
    project.id,
    hashes.map((contentHash, i) => ({
      contentHash,
      mimeType: 'image/png',
      width: 28,
      height: 28,
      channels: 1,
      split: i % 5 === 4 ? 'EVAL' : 'POOL',
      sourceRef: contentHash,
    })),
  );
  const ids = await db.items.idsByContentHash(project.id, hashes);
  return {
    projectId: project.id,
    classIds: classes.map((c) => c.id),
    itemIds: hashes.map((h) => ids.get(h)!),
  };
}

/**
 * A Fashion-MNIST project (the first `limit` train images as the pool, the first `limit` test
 * images as eval, truth hidden) with an encoder registered (the tests' default:
 * models/fashion-mnist-dae) and `budget` labels.
 */
export async function seedFashionMnist(
  deps: { db: Database; blobs: BlobStore },
  options: { limit?: number; budget: number; slug?: string; encoder?: string },
): Promise<{ projectId: string; encoderVersionId: string }> {
  const slug = options.slug ?? `fm-${Math.random().toString(36).slice(2, 8)}`;
  await importFashionMnist(deps, { slug, limit: options.limit });
  const project = (await deps.db.projects.bySlug(slug))!;
  const encoderVersionId = await registerEncoder(deps, {
    modelDir: path.join(repoRoot, options.encoder ?? 'models/fashion-mnist-dae'),
    name: path.basename(options.encoder ?? 'models/fashion-mnist-dae'),
    projectId: project.id,
  });
  if (options.budget) {
    await deps.db.budget.add({
      projectId: project.id,
      amount: options.budget,
      reason: 'test budget',
    });
  }
  return { projectId: project.id, encoderVersionId };
}

/** The class a simulated labeler answers for an item: its hidden truth. */
export async function hiddenClassOf(db: Database, itemId: string): Promise<string> {
  const truth = (await db.items.hiddenTruth([itemId])).get(itemId);
  if (!truth) throw new Error(`item ${itemId} has no hidden truth`);
  return truth;
}
