import { heartbeat } from '@temporalio/activity';
import {
  appendVectors,
  createVectorSet,
  insertFeatures,
  itemsWithoutFeatures,
  publishVectorSet,
  readFeaturePage,
  readFeaturesOf,
  truncateVectorSetAfter,
  upsertVectors,
  VECTOR_DIMS,
  vectorSetState,
} from '@beanstalk/db';
import {
  DEFAULT_HEAD_CONFIG,
  HeadProjector,
  ImageDecodeError,
  normaliseRows,
  project as projectRows,
  serializeHead,
  stackRows,
  trainHead,
} from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';
import { heartbeatingThrough, resumePoint } from './heartbeats.ts';
import { pipelinePages } from './pages.ts';
import { classIndex, loadHead } from './heads.ts';

async function encoderOf(deps: ActivityDeps, projectId: string) {
  const project = await deps.prisma.project.findUnique({ where: { id: projectId } });
  if (!project) throw new AppError('NOT_FOUND', `project ${projectId} does not exist`);
  if (!project.encoderVersionId) {
    throw new AppError('BAD_USER_INPUT', `project ${project.slug} has no encoder registered`);
  }
  return { project, encoderVersionId: project.encoderVersionId };
}

export interface EmbedResult {
  embedded: number;
  failed: { itemId: string; reason: string }[];
  /** The last item id looked at: the next call continues after it. */
  after: string | null;
  /** No item after `after` is waiting for features. */
  done: boolean;
}

/**
 * Activities for the `gpu` task queue: everything that runs the encoder or trains and applies
 * a projection head. All are idempotent and resume from their last heartbeat.
 */
export function createModelActivities(deps: ActivityDeps) {
  return {
    /**
     * Encodes up to `limit` items after `after` (item-id order) that have no backbone features
     * yet: L2-normalised features are stored per encoder, and projected vectors are added to
     * the active set so new items become searchable. An image that cannot be decoded is
     * reported and passed over (the cursor moves on), so it cannot block the rest.
     */
    async embedItems(input: {
      projectId: string;
      after: string | null;
      limit: number;
      batchSize?: number;
    }): Promise<EmbedResult> {
      return surfacing(async () => {
        const { project, encoderVersionId } = await encoderOf(deps, input.projectId);
        const encoder = await deps.encoders.get(encoderVersionId);
        const head = project.activeHeadVersionId
          ? await loadHead(deps.prisma, project.activeHeadVersionId)
          : null;
        const batchSize = input.batchSize ?? 256;
        const failed: EmbedResult['failed'] = [];
        let after = resumePoint<{ after: string }>()?.after ?? input.after;
        let embedded = 0;
        let seen = 0;
        while (seen < input.limit) {
          const page = await itemsWithoutFeatures(deps.pool, {
            projectId: input.projectId,
            encoderVersionId,
            after,
            limit: Math.min(batchSize, input.limit - seen),
          });
          if (page.length === 0) return { embedded, failed, after, done: true };
          seen += page.length;
          const images = await Promise.all(
            page.map(async (i) => ({
              name: `item ${i.id}`,
              bytes: await deps.blobs.get(i.blobKey),
            })),
          );
          let vectors: (Float32Array | null)[];
          try {
            vectors = await encoder.embedImages(images);
          } catch (error) {
            if (!(error instanceof ImageDecodeError)) throw error;
            // One bad image: encode one by one so the rest of the batch still lands.
            vectors = [];
            for (const [j, image] of images.entries()) {
              try {
                vectors.push((await encoder.embedImages([image]))[0]!);
              } catch (inner) {
                if (!(inner instanceof ImageDecodeError)) throw inner;
                failed.push({ itemId: page[j]!.id, reason: inner.message });
                vectors.push(null);
              }
            }
          }
          const rows = page.flatMap((item, j) =>
            vectors[j] ? [{ item, vector: vectors[j] }] : [],
          );
          const features = normaliseRows(
            stackRows(
              rows.map((r) => r.vector),
              encoder.dims,
            ),
            encoder.dims,
          );
          await insertFeatures(
            deps.pool,
            encoderVersionId,
            rows.map((r, j) => ({
              itemId: r.item.id,
              feature: features.subarray(j * encoder.dims, (j + 1) * encoder.dims),
            })),
          );
          if (head && project.activeHeadVersionId && rows.length) {
            const projected = projectRows(head, features, rows.length);
            await upsertVectors(
              deps.pool,
              project.activeHeadVersionId,
              rows.map((r, j) => ({
                itemId: r.item.id,
                embedding: projected.subarray(j * VECTOR_DIMS, (j + 1) * VECTOR_DIMS),
              })),
            );
          }
          embedded += rows.length;
          after = page.at(-1)!.id;
          heartbeat({ after });
        }
        return { embedded, failed, after, done: false };
      });
    },

    /**
     * Trains the round's projection head on the current human (and imported/gold) labels of
     * pool items. At most one head per round: a retry after the head was stored returns it.
     */
    async trainRoundHead(input: { roundId: string; seed?: number }): Promise<string> {
      return surfacing(async () => {
        const done = await deps.prisma.headVersion.findUnique({
          where: { roundId: input.roundId },
        });
        if (done) return done.id;
        const round = await deps.prisma.round.findUniqueOrThrow({ where: { id: input.roundId } });
        const { encoderVersionId } = await encoderOf(deps, round.projectId);
        const { indexOf } = await classIndex(deps.prisma, round.projectId);
        const labels = await deps.pool.query<{ item_id: string; label_class_id: string }>(
          `SELECT cl.item_id, cl.label_class_id FROM current_labels cl
             JOIN items i ON i.id = cl.item_id
            WHERE cl.project_id = $1 AND i.split = 'POOL' AND cl.label_class_id IS NOT NULL
              AND cl.source <> 'AUTO'
            ORDER BY cl.item_id`,
          [round.projectId],
        );
        const features = await readFeaturesOf(
          deps.pool,
          encoderVersionId,
          labels.rows.map((r) => r.item_id),
        );
        const usable = labels.rows.filter((r) => features.has(r.item_id));
        const classesSeen = new Set(usable.map((r) => r.label_class_id)).size;
        if (classesSeen < 2) {
          throw new AppError(
            'BAD_USER_INPUT',
            `a head needs labels of at least 2 classes; round ${round.number} has ${classesSeen}`,
          );
        }
        const dims = features.values().next().value!.length;
        const { weights, config, report } = await trainHead(
          stackRows(
            usable.map((r) => features.get(r.item_id)!),
            dims,
          ),
          Int32Array.from(usable, (r) => indexOf.get(r.label_class_id)!),
          { inputDims: dims, outputDims: VECTOR_DIMS, seed: input.seed ?? round.number },
          {
            onStep: (step, loss) =>
              heartbeat({ step, loss, maxSteps: DEFAULT_HEAD_CONFIG.maxSteps }),
          },
        );
        const { bytes, shapes, kind } = serializeHead(weights);
        const head = await deps.prisma.headVersion.upsert({
          where: { roundId: input.roundId },
          update: {},
          create: {
            projectId: round.projectId,
            encoderVersionId,
            roundId: input.roundId,
            kind: kind === 'linear' ? 'LINEAR' : 'MLP',
            inputDims: dims,
            outputDims: VECTOR_DIMS,
            weights: new Uint8Array(bytes),
            config: { shapes, ...config },
            metrics: {
              trainingLabels: usable.length,
              steps: report.steps,
              bestStep: report.bestStep,
              validationAccuracy: Number.isFinite(report.validationAccuracy)
                ? report.validationAccuracy
                : null,
              seconds: report.seconds,
            },
          },
        });
        return head.id;
      });
    },

    /**
     * Projects every item's stored features with a head into a new vector set, builds its HNSW
     * index and publishes it (not yet active: promotion swaps it in). Resumes after the last
     * page it reported; a published set is left as it is.
     */
    async reindexHead(input: { headVersionId: string; pageSize?: number }): Promise<number> {
      return surfacing(async () => {
        const head = await deps.prisma.headVersion.findUniqueOrThrow({
          where: { id: input.headVersionId },
        });
        const state = await vectorSetState(deps.pool, head.id);
        const countRows = async () =>
          (
            await deps.pool.query<{ n: string }>(
              'SELECT count(*) AS n FROM item_vectors WHERE head_version_id = $1',
              [head.id],
            )
          ).rows[0]!.n;
        if (state === 'published') return Number(await countRows());
        const resume = resumePoint<{ after: string; written: number }>();
        let after: string | null = null;
        let written = 0;
        if (state === 'building' && resume) {
          ({ after, written } = resume);
          await truncateVectorSetAfter(deps.pool, head.id, after);
        } else {
          await createVectorSet(deps.pool, head.id);
        }
        const projector = await HeadProjector.create(await loadHead(deps.prisma, head.id));
        const total = await deps.prisma.itemFeature.count({
          where: { encoderVersionId: head.encoderVersionId, item: { projectId: head.projectId } },
        });
        const started = Date.now();
        try {
          await pipelinePages(after, {
            read: (from) =>
              readFeaturePage(deps.pool, {
                projectId: head.projectId,
                encoderVersionId: head.encoderVersionId,
                after: from,
                limit: input.pageSize ?? 5000,
              }),
            compute: (page) =>
              projector.project(
                stackRows(
                  page.map((r) => r.vector),
                  head.inputDims,
                ),
                page.length,
              ),
            write: async (page, projected) => {
              written += await appendVectors(
                deps.pool,
                head.id,
                page.map((r, j) => ({
                  ...r,
                  embedding: projected.subarray(j * VECTOR_DIMS, (j + 1) * VECTOR_DIMS),
                })),
              );
              after = page.at(-1)!.itemId;
              heartbeat({ after, written, total });
            },
          });
        } finally {
          await projector.release();
        }
        const wroteAt = Date.now();
        await heartbeatingThrough({ after, written, total, phase: 'index' }, () =>
          publishVectorSet(deps.pool, head.id),
        );
        console.log(
          `reindex head ${head.id}: ${written} vectors written in ${(wroteAt - started) / 1000} s, ` +
            `indexed and published in ${(Date.now() - wroteAt) / 1000} s`,
        );
        return written;
      });
    },
  };
}

export type ModelActivities = ReturnType<typeof createModelActivities>;
