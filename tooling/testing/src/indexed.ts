import { VECTOR_DIMS, type Database } from '@beanstalk/db';
import { initialWeights, normaliseRows, project, serializeHead, stackRows } from '@beanstalk/ml';
import { EncoderCache, scorePool } from '@beanstalk/model-runtime';
import type { BlobStore } from '@beanstalk/storage';
import { seedFashionMnist } from './seed.ts';

/**
 * A Fashion-MNIST project that is ready to answer queries without running a round: every
 * image embedded by the real encoder, a head (a seeded random projection, which keeps the
 * encoder's neighbourhoods) with its vector set published and active, the first `labeled`
 * pool items labeled (source IMPORT, from the hidden truth) and the rest of the pool scored
 * by the platform's own scoring (predictions and anomaly scores).
 */
export async function seedIndexedFashionMnist(
  deps: { db: Database; blobs: BlobStore; modelsDir: string },
  options: { limit: number; labeled: number; budget: number; slug?: string; k?: number },
) {
  const { db } = deps;
  const { projectId, encoderVersionId } = await seedFashionMnist(deps, options);
  const items = await db.items.forExport(projectId, ['POOL', 'EVAL', 'GOLD']);
  // In the order images were imported (source file and index), not by content hash.
  const byId = new Map((await db.items.byIds(items.map((i) => i.id))).map((i) => [i.id, i]));
  const ordered = items
    .map((i) => ({ ...i, ...byId.get(i.id)! }))
    .sort((a, b) => (a.sourceRef ?? '').localeCompare(b.sourceRef ?? ''));
  const encoders = new EncoderCache(deps, { dir: deps.modelsDir, threads: 2 });
  const encoder = await encoders.get(encoderVersionId);
  const raw: Float32Array[] = [];
  // In slices, so tens of thousands of images never hold a file handle each at once.
  for (let start = 0; start < ordered.length; start += 500) {
    const slice = ordered.slice(start, start + 500);
    raw.push(
      ...(await encoder.embedImages(
        await Promise.all(
          slice.map(async (i) => ({ name: i.id, bytes: await deps.blobs.get(i.blobKey) })),
        ),
      )),
    );
  }
  await encoders.close();
  // Stored as ingest stores them: L2-normalised.
  const features = normaliseRows(stackRows(raw, encoder.dims), encoder.dims);
  const featureOf = (i: number) => features.subarray(i * encoder.dims, (i + 1) * encoder.dims);
  await db.features.insert(
    encoderVersionId,
    ordered.map((item, i) => ({ itemId: item.id, feature: featureOf(i) })),
  );
  const { head, weights } = await createProjectionHead(db, {
    projectId,
    encoderVersionId,
    inputDims: encoder.dims,
  });
  const vectors = project(weights, features, ordered.length);
  const pool = ordered.filter((item) => item.split === 'POOL');
  const labeled = pool.slice(0, options.labeled);
  for (const item of labeled) {
    await db.labels.append({
      projectId,
      itemId: item.id,
      labelClassId: item.hiddenClassId!,
      source: 'IMPORT',
      supersedesId: null,
    });
  }
  await db.vectorSets.create(head.id);
  await db.vectorSets.upsert(
    head.id,
    ordered.map((item, i) => ({
      itemId: item.id,
      embedding: vectors.subarray(i * VECTOR_DIMS, (i + 1) * VECTOR_DIMS),
    })),
  );
  await db.vectorSets.publish(head.id);
  await db.heads.promote(head.id, { note: 'test fixture' });
  // As a promoted head's refreshSearchIndex would, so searches go through HNSW.
  await db.vectorSets.buildSearchIndex(head.id);
  if (labeled.length > 0) {
    await scorePool(db, { headVersionId: head.id, roundId: null, k: options.k ?? 10 });
  }
  return {
    projectId,
    encoderVersionId,
    headVersionId: head.id,
    items: ordered,
    labeled,
  };
}

/**
 * A candidate head that is a seeded random linear projection of the encoder's features (it
 * keeps their neighbourhoods): what fixtures and benchmarks index with when no round has run.
 */
export async function createProjectionHead(
  db: Database,
  input: { projectId: string; encoderVersionId: string; inputDims: number },
) {
  const weights = initialWeights({
    kind: 'linear',
    inputDims: input.inputDims,
    hiddenDims: 0,
    outputDims: VECTOR_DIMS,
    seed: 7,
  });
  const serialized = serializeHead(weights);
  const head = await db.heads.create({
    projectId: input.projectId,
    encoderVersionId: input.encoderVersionId,
    kind: 'LINEAR',
    inputDims: input.inputDims,
    outputDims: VECTOR_DIMS,
    weights: new Uint8Array(serialized.bytes),
    config: { shapes: serialized.shapes },
  });
  return { head, weights };
}
