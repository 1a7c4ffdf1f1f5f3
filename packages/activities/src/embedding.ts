import { heartbeat } from '@temporalio/activity';
import { VECTOR_DIMS, type Database } from '@beanstalk/db';
import { ImageDecodeError, normaliseRows, stackRows } from '@beanstalk/ml';
import { ProjectorCache } from '@beanstalk/model-runtime';
import { AppError } from '@beanstalk/shared';
import type { ActivityDeps } from './deps.ts';
import { surfacing } from './failures.ts';
import { resumePoint } from './heartbeats.ts';

export interface EmbedResult {
  embedded: number;
  failed: { itemId: string; reason: string }[];
  /** The last item id looked at: the next call continues after it. */
  after: string | null;
  /** No item after `after` is waiting for features. */
  done: boolean;
}

/** The project and its encoder, or a permanent error saying what is missing. */
export async function encoderOf(db: Database, projectId: string) {
  const project = await db.projects.get(projectId);
  if (!project.encoderVersionId) {
    throw new AppError('BAD_USER_INPUT', `project ${project.slug} has no encoder registered`);
  }
  return { project, encoderVersionId: project.encoderVersionId };
}

/** Runs the encoder over new items (gpu queue). */
export function createEmbeddingActivities({ db, blobs, encoders }: ActivityDeps) {
  const projectors = new ProjectorCache(db, 0);
  return {
    /**
     * Encodes up to `limit` items after `after` (item-id order) that have no backbone features
     * yet: L2-normalised features are stored per encoder, and projected vectors are added to
     * the active set (and the searched one, while they differ) so new items become searchable. An image that cannot be decoded is
     * reported, marked unreadable and passed over, so it cannot block the rest.
     * `encoderVersionId` embeds with another encoder than the project's (a new one, before the
     * project switches to it); its features are stored, and only the project's own encoder's
     * features go on into the active head's vectors.
     */
    embedItems(input: {
      projectId: string;
      after: string | null;
      /** Only items whose id sorts below this one (one shard of a parallel ingest). */
      before?: string | null;
      limit: number;
      batchSize?: number;
      encoderVersionId?: string | null;
    }): Promise<EmbedResult> {
      return surfacing(async () => {
        const project = await db.projects.get(input.projectId);
        const encoderVersionId =
          input.encoderVersionId ?? (await encoderOf(db, input.projectId)).encoderVersionId;
        const encoder = await encoders.get(encoderVersionId);
        // The active head's set, and the set answering searches while that one's index is built.
        const heads =
          encoderVersionId === project.encoderVersionId
            ? [...new Set([project.activeHeadVersionId, project.searchHeadVersionId])].filter(
                (h): h is string => h !== null,
              )
            : [];
        const batchSize = input.batchSize ?? 256;
        const failed: EmbedResult['failed'] = [];
        let after = resumePoint<{ after: string }>()?.after ?? input.after;
        let embedded = 0;
        let seen = 0;
        while (seen < input.limit) {
          const page = await db.features.itemsWithout({
            projectId: input.projectId,
            encoderVersionId,
            after,
            before: input.before ?? null,
            limit: Math.min(batchSize, input.limit - seen),
          });
          if (page.length === 0) return { embedded, failed, after, done: true };
          seen += page.length;
          const images = await Promise.all(
            page.map(async (i) => ({ name: `item ${i.id}`, bytes: await blobs.get(i.blobKey) })),
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
                await db.items.markUnreadable(page[j]!.id, inner.message);
                vectors.push(null);
              }
            }
          }
          const rows = page.flatMap((item, j) => {
            const vector = vectors[j];
            return vector ? [{ item, vector }] : [];
          });
          const features = normaliseRows(
            stackRows(
              rows.map((r) => r.vector),
              encoder.dims,
            ),
            encoder.dims,
          );
          await db.features.insert(
            encoderVersionId,
            rows.map((r, j) => ({
              itemId: r.item.id,
              feature: features.subarray(j * encoder.dims, (j + 1) * encoder.dims),
            })),
          );
          for (const head of rows.length ? heads : []) {
            const projected = await (await projectors.get(head)).project(features, rows.length);
            await db.vectorSets.upsert(
              head,
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
  };
}
