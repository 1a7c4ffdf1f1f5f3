import {
  createVectorSet,
  insertFeatures,
  publishVectorSet,
  activateVectorSet,
  upsertVectors,
  appendLabel,
  VECTOR_DIMS,
  type Pool,
  type PrismaClient,
} from '@beanstalk/db';
import { EncoderCache } from '@beanstalk/activities';
import {
  initialWeights,
  nearestNeighbours,
  project,
  serializeHead,
  stackRows,
  vote,
} from '@beanstalk/ml';
import type { BlobStore } from '@beanstalk/storage';
import { seedFashionMnist } from './seed.ts';

/**
 * A Fashion-MNIST project that is ready to answer queries without running a round: every
 * image embedded by the real encoder, a head (a seeded random projection, which keeps the
 * encoder's neighbourhoods) with its vector set published and active, the first `labeled`
 * pool items labeled (source IMPORT, from the hidden truth) and kNN predictions stored for the
 * rest of the pool.
 */
export async function seedIndexedFashionMnist(
  deps: { prisma: PrismaClient; pool: Pool; blobs: BlobStore; modelsDir: string },
  options: { limit: number; labeled: number; budget: number; slug?: string },
) {
  const { projectId, encoderVersionId } = await seedFashionMnist(deps, options);
  const items = await deps.prisma.item.findMany({
    where: { projectId },
    orderBy: { sourceRef: 'asc' },
    include: { hiddenTruth: true },
  });
  const encoders = new EncoderCache(deps, { dir: deps.modelsDir, threads: 2 });
  const encoder = await encoders.get(encoderVersionId);
  const features: Float32Array[] = [];
  // In slices, so tens of thousands of images never hold a file handle each at once.
  for (let start = 0; start < items.length; start += 500) {
    const slice = items.slice(start, start + 500);
    features.push(
      ...(await encoder.embedImages(
        await Promise.all(
          slice.map(async (i) => ({ name: i.id, bytes: await deps.blobs.get(i.blobKey) })),
        ),
      )),
    );
  }
  await encoders.close();
  await insertFeatures(
    deps.pool,
    encoderVersionId,
    items.map((item, i) => ({ itemId: item.id, feature: features[i]! })),
  );
  const weights = initialWeights({
    kind: 'linear',
    inputDims: encoder.dims,
    hiddenDims: 0,
    outputDims: VECTOR_DIMS,
    seed: 7,
  });
  const serialized = serializeHead(weights);
  const head = await deps.prisma.headVersion.create({
    data: {
      projectId,
      encoderVersionId,
      kind: 'LINEAR',
      inputDims: encoder.dims,
      outputDims: VECTOR_DIMS,
      weights: new Uint8Array(serialized.bytes),
      config: { shapes: serialized.shapes },
      status: 'ACTIVE',
      promotedAt: new Date(),
    },
  });
  const vectors = project(weights, stackRows(features, encoder.dims), items.length);
  const vectorOf = (i: number) => vectors.subarray(i * VECTOR_DIMS, (i + 1) * VECTOR_DIMS);
  const pool = items.flatMap((item, i) => (item.split === 'POOL' ? [{ item, i }] : []));
  const labeled = pool.slice(0, options.labeled);
  for (const { item } of labeled) {
    await appendLabel(deps.pool, {
      projectId,
      itemId: item.id,
      labelClassId: item.hiddenTruth!.labelClassId,
      source: 'IMPORT',
      supersedesId: null,
    });
  }
  await createVectorSet(deps.pool, head.id);
  await upsertVectors(
    deps.pool,
    head.id,
    items.map((item, i) => ({ itemId: item.id, embedding: vectorOf(i) })),
  );
  await publishVectorSet(deps.pool, head.id);
  await activateVectorSet(deps.pool, projectId, head.id);

  const classes = await deps.prisma.labelClass.findMany({
    where: { projectId },
    orderBy: { position: 'asc' },
  });
  const indexOf = new Map(classes.map((c, i) => [c.id, i]));
  const references = stackRows(
    labeled.map(({ i }) => vectorOf(i)),
    VECTOR_DIMS,
  );
  const unlabeled = labeled.length > 0 ? pool.slice(options.labeled) : [];
  const k = Math.min(10, labeled.length);
  const { index, distance } = nearestNeighbours(
    references,
    stackRows(
      unlabeled.map(({ i }) => vectorOf(i)),
      VECTOR_DIMS,
    ),
    VECTOR_DIMS,
    k,
  );
  await deps.prisma.prediction.createMany({
    data: unlabeled.map(({ item }, q) => {
      const v = vote(
        Array.from({ length: k }, (_, j) => ({
          classIndex: indexOf.get(labeled[index[q * k + j]!]!.item.hiddenTruth!.labelClassId)!,
          distance: distance[q * k + j]!,
        })),
        classes.length,
      );
      return {
        headVersionId: head.id,
        itemId: item.id,
        labelClassId: classes[v.predicted]!.id,
        confidence: v.confidence,
        margin: v.margin,
        entropy: v.entropy,
        // A stand-in score with a spread (distance to the nearest reference), enough for sorting.
        anomalyScore: distance[q * k]!,
        probabilities: Array.from(v.probabilities),
      };
    }),
  });
  return {
    projectId,
    encoderVersionId,
    headVersionId: head.id,
    items,
    labeled: labeled.map((l) => l.item),
  };
}
