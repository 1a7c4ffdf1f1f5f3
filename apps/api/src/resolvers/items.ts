import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Item as ItemRow } from '@beanstalk/db';
import { importFolder, inspectImage, writeItems } from '@beanstalk/ingest';
import { ingestStatus, isTemporalUnavailable, startIngest } from '@beanstalk/orchestration';
import { AppError, isAppError } from '@beanstalk/shared';
import { Kind, type GraphQLResolveInfo } from 'graphql';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { blobKeyOf } from '@beanstalk/storage';
import type { Context } from '../context.ts';
import type {
  ItemResolvers,
  LabelResolvers,
  MutationResolvers,
  NeighborFilter,
  NeighborResolvers,
  PredictionResolvers,
  QueryResolvers,
  ClassificationResolvers,
} from '../generated/graphql.ts';
import { currentOf } from '../loaders.ts';
import { embeddingMap } from '../services/embedding-map.ts';
import { exportLabels } from '../services/label-export.ts';
import { parseLabelLines } from '../services/label-import.ts';
import { readUpload } from '../services/uploads.ts';
import { actor, may, requirePlatformAdmin, requireSignedIn } from '../auth/permissions.ts';
import type { Viewer } from '../auth/viewer.ts';
import { owned, projectBySlug } from './access.ts';

const ALL_SPLITS = ['POOL', 'EVAL', 'GOLD'] as const;

/**
 * A neighbour search's filter as the caller may have it: people who answer gold questions never
 * get GOLD items back (a labeled neighbour would show a gold answer). Null when nothing is left
 * to search.
 */
function knnFilter(ctx: Context, projectId: string, f: NeighborFilter | null | undefined) {
  const asked = f?.splits ?? undefined;
  const splits = may(ctx.viewer, projectId, 'seeGold')
    ? asked
    : (asked ?? ALL_SPLITS).filter((split) => split !== 'GOLD');
  if (splits && splits.length === 0) return null;
  return {
    splits,
    labeled: f?.labeled ?? undefined,
    labelSources: f?.labelSources ?? undefined,
  };
}

function checkK(k: number | null | undefined, fallback: number): number {
  const value = k ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new AppError('BAD_USER_INPUT', `k must be 1..100 (got ${value})`);
  }
  return value;
}

/** A gold item seen by someone who answers gold questions: its answer key stays hidden. */
const goldHidden = (viewer: Viewer, item: ItemRow) =>
  item.split === 'GOLD' && !may(viewer, item.projectId, 'seeGold');

async function activeHead(ctx: Context, projectId: string): Promise<string | null> {
  return (await ctx.loaders.project.load(projectId))?.activeHeadVersionId ?? null;
}

/** The head whose pool index answers neighbour searches (the active one once it is built). */
async function searchHead(ctx: Context, projectId: string): Promise<string | null> {
  return (await ctx.loaders.project.load(projectId))?.searchHeadVersionId ?? null;
}

export const Item: ItemResolvers = {
  async imageDataUrl(item, _args, { blobs }) {
    const bytes = await blobs.get(item.blobKey);
    return `data:${item.mimeType};base64,${Buffer.from(bytes).toString('base64')}`;
  },
  createdAt: (item) => item.createdAt.toISOString(),
  split: (item, _args, { viewer }) => (goldHidden(viewer, item) ? 'POOL' : item.split),
  async label(item, _args, { loaders, viewer }) {
    if (goldHidden(viewer, item)) return null;
    const current = currentOf(await loaders.labelHistory.load(item.id));
    return current?.labelClassId ? current : null;
  },
  labelHistory: (item, _args, { loaders, viewer }) =>
    goldHidden(viewer, item) ? [] : loaders.labelHistory.load(item.id),
  async prediction(item, _args, ctx) {
    const head = await activeHead(ctx, item.projectId);
    return head ? ctx.loaders.prediction.load(`${head}:${item.id}`) : null;
  },
  neighbors: (item, { k, filter }, ctx) => neighborsOf(ctx, item, k, filter),
  nearDuplicateOf: (item, _args, { loaders }) =>
    item.nearDuplicateOf ? loaders.item.load(item.nearDuplicateOf) : null,
  nearDuplicates: (item, _args, { loaders }) => loaders.nearDuplicates.load(item.id),
  async proposedAlongside(item, _args, { db, loaders }) {
    const project = await loaders.project.load(item.projectId);
    return project?.linkNearDuplicates ? db.items.unlabeledNearDuplicateGroup(item.id) : [];
  },
};

/** Nearest items to a stored item under its project's search head (itself left out). */
async function neighborsOf(
  ctx: Context,
  item: ItemRow,
  k: number | null | undefined,
  filter: NeighborFilter | null | undefined,
) {
  const head = await searchHead(ctx, item.projectId);
  if (!head) return [];
  const allowed = knnFilter(ctx, item.projectId, filter);
  const embedding = (await ctx.db.vectorSets.vectorsOf(head, [item.id])).get(item.id);
  if (!embedding || !allowed) return [];
  return ctx.db.knn.search({
    projectId: item.projectId,
    headVersionId: head,
    embedding,
    k: checkK(k, 10),
    filter: { ...allowed, excludeItemIds: [item.id] },
  });
}

export const Label: LabelResolvers = {
  item: async (l, _args, { loaders }) => (await loaders.item.load(l.itemId))!,
  labelClass: (l, _args, { loaders }) =>
    l.labelClassId ? loaders.labelClass.load(l.labelClassId) : null,
  annotator: (l, _args, { loaders }) => (l.annotatorId ? loaders.user.load(l.annotatorId) : null),
  roundNumber: async (l, _args, { loaders }) =>
    l.roundId ? ((await loaders.round.load(l.roundId))?.number ?? null) : null,
  createdAt: (l) => l.createdAt.toISOString(),
};

export const Prediction: PredictionResolvers = {
  labelClass: async (p, _args, { loaders }) => (await loaders.labelClass.load(p.labelClassId))!,
  headVersion: async (p, _args, { loaders }) => (await loaders.headVersion.load(p.headVersionId))!,
};

/** Whether a field's selection asks for nothing of the object but its id (no fragments). */
const onlyId = (info: GraphQLResolveInfo) =>
  info.fieldNodes.every((node) =>
    (node.selectionSet?.selections ?? []).every(
      (s) => s.kind === Kind.FIELD && (s.name.value === 'id' || s.name.value === '__typename'),
    ),
  );

export const Neighbor: NeighborResolvers = {
  // A batch of classifications asks for hundreds of neighbours, often by id alone: those are
  // answered without reading the items (measured: 40% of the API's own cost per batch).
  item: async (n, _args, { loaders }, info) =>
    onlyId(info) ? ({ id: n.itemId } as ItemRow) : (await loaders.item.load(n.itemId))!,
  labelClass: (n, _args, { loaders }) =>
    n.labelClassId ? loaders.labelClass.load(n.labelClassId) : null,
};

export const Classification: ClassificationResolvers = {
  labelClass: (c, _args, { loaders }) => {
    if (!c.neighbors.length) return null;
    const id = c.classIds[c.vote.predicted]!;
    // The classifier read the project's classes for this request: no second read.
    return c.classes.find((k) => k.id === id) ?? loaders.labelClass.load(id);
  },
  confidence: (c) => c.vote.confidence,
  margin: (c) => c.vote.margin,
  probabilities: (c) => Array.from(c.vote.probabilities),
  headVersion: async (c, _args, { loaders }) => (await loaders.headVersion.load(c.headVersionId))!,
  item: (c, _args, { loaders }) => (c.itemId ? loaders.item.load(c.itemId) : null),
};

export const itemQueries: Pick<
  QueryResolvers,
  | 'items'
  | 'item'
  | 'similar'
  | 'ingestProgress'
  | 'knownContentHashes'
  | 'uploadLimits'
  | 'exportLabels'
  | 'embeddingMap'
> = {
  async knownContentHashes(_parent, { project: slug, hashes }, ctx) {
    const project = await projectBySlug(ctx, slug, 'ingest');
    if (hashes.length > 1000) throw new AppError('BAD_USER_INPUT', 'at most 1000 hashes per call');
    const bad = hashes.find((h) => !/^[0-9a-f]{64}$/.test(h));
    if (bad !== undefined) {
      throw new AppError('BAD_USER_INPUT', `not a lowercase hex SHA-256: ${bad.slice(0, 80)}`);
    }
    return [...(await ctx.db.items.idsByContentHash(project.id, hashes)).keys()];
  },
  uploadLimits(_parent, _args, { config, viewer }) {
    requireSignedIn(viewer);
    return {
      maxFiles: config.api.maxFiles,
      maxFileBytes: config.api.maxUploadBytes,
      maxRequestBytes: config.api.maxRequestBytes,
    };
  },
  async embeddingMap(_parent, { project: slug, limit }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    const n = limit ?? 3000;
    if (!Number.isInteger(n) || n < 3 || n > 10_000) {
      throw new AppError('BAD_USER_INPUT', 'limit must be 3..10000');
    }
    if (!project.activeHeadVersionId) return { points: [], explained: 0, total: 0 };
    const map = await embeddingMap(ctx.db, {
      projectId: project.id,
      headVersionId: project.activeHeadVersionId,
      limit: n,
    });
    // People who answer gold questions see no gold item on the map (its label is the answer).
    if (may(ctx.viewer, project.id, 'seeGold')) return map;
    return { ...map, points: map.points.filter((p) => p.split !== 'GOLD') };
  },
  async items(_parent, { project: slug, filter, sort, first, after }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    return ctx.db.items.search({
      projectId: project.id,
      activeHeadVersionId: project.activeHeadVersionId,
      filter: filter ?? {},
      sort: sort ?? 'RECENT',
      first: first ?? 50,
      after,
      hideGold: !may(ctx.viewer, project.id, 'seeGold'),
    });
  },
  async item(_parent, { id }, ctx) {
    const item = await ctx.loaders.item.load(id).catch(() => null);
    if (!item) return null;
    return owned(ctx, item, `item ${id}`, 'read').catch((error: AppError) => {
      if (error.code === 'NOT_FOUND') return null;
      throw error;
    });
  },
  async similar(_parent, { project: slug, itemId, image, k, filter }, ctx) {
    const project = await projectBySlug(ctx, slug, 'classify');
    if ((itemId == null) === (image == null)) {
      throw new AppError('BAD_USER_INPUT', 'give exactly one of itemId and image');
    }
    if (itemId) {
      const item = await owned(ctx, await ctx.loaders.item.load(itemId), `item ${itemId}`, 'read');
      if (item.projectId !== project.id)
        throw new AppError('NOT_FOUND', `item ${itemId} is not in ${slug}`);
      return neighborsOf(ctx, item, k, filter);
    }
    const allowed = knnFilter(ctx, project.id, filter);
    const { headVersionId, vector } = await ctx.classifier.embed(
      project,
      await readUpload(image!),
      project.searchHeadVersionId,
    );
    if (!allowed) return [];
    return ctx.db.knn.search({
      projectId: project.id,
      headVersionId,
      embedding: vector,
      k: checkK(k, 10),
      filter: allowed,
    });
  },
  async ingestProgress(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    const status = await ingestStatus(await ctx.temporal(), project.id);
    // Ingests started before the near-duplicate check existed report no such figure.
    return status && { ...status, nearDuplicates: status.nearDuplicates ?? 0 };
  },
  async exportLabels(_parent, { project: slug, format }, ctx) {
    const project = await projectBySlug(ctx, slug, 'export');
    return exportLabels(ctx.db, project, format);
  },
};

/**
 * The real path of a folder under the configured import root. The same answer whether the
 * folder does not exist or lies outside (no way to probe the host's files), and links that
 * lead out of the root do not count as under it.
 */
async function underImportRoot(root: string | null, folder: string): Promise<string> {
  if (!root) {
    throw new AppError(
      'FORBIDDEN',
      'server-side folder imports are off (set BEANSTALK_IMPORT_ROOT); upload the images instead',
    );
  }
  const refused = new AppError('BAD_USER_INPUT', `${folder} is not a folder under the import root`);
  const [realRoot, real] = await Promise.all([
    realpath(root),
    realpath(path.resolve(root, folder)).catch(() => null),
  ]);
  if (!real || (real !== realRoot && !real.startsWith(realRoot + path.sep))) throw refused;
  if (!(await stat(real)).isDirectory()) throw refused;
  return real;
}

/**
 * Starts embedding a project's new items; returns the ingest's workflow id. With Temporal away
 * the items are already stored, so this is not an error: null, and an orchestration worker
 * starts the ingest once Temporal is back (its maintenance pass). A project without an encoder
 * gets none: trainEncoder embeds everything once it has trained one.
 */
async function embedLater(ctx: Context, projectId: string): Promise<string | null> {
  // A new project has nothing to embed with until its encoder is trained (trainEncoder).
  if (!(await ctx.db.projects.get(projectId)).encoderVersionId) return null;
  try {
    return (await startIngest(await ctx.temporal(), projectId, ctx.queues)).workflowId;
  } catch (error) {
    if (!isTemporalUnavailable(error)) throw error;
    console.warn(`api: ingest of ${projectId} deferred: ${(error as Error).message}`);
    return null;
  }
}

/**
 * Stores uploaded images one at a time (read, check, blob, row), so a request holds one
 * file's bytes at most, then starts embedding the new ones; one summary for the request. A
 * file that cannot be read or is not an image is reported by name, and the rest go on.
 */
async function storeImages(
  ctx: Context,
  projectId: string,
  files: Promise<FileUpload>[],
  split: ItemRow['split'],
  labels: (string | null | undefined)[] | null | undefined,
) {
  if (labels && labels.length !== files.length) {
    throw new AppError(
      'BAD_USER_INPUT',
      `labels holds ${labels.length} entries for ${files.length} files; give one per file (null for none)`,
    );
  }
  const classIds = new Map(
    (await ctx.db.classes.ofProject(projectId))
      .filter((c) => c.retiredAt === null)
      .map((c) => [c.name, c.id]),
  );
  const errors: { file: string; index: number; reason: string }[] = [];
  let imported = 0;
  let duplicates = 0;
  for (const [i, file] of files.entries()) {
    let name = 'upload';
    try {
      const image = await readUpload(file);
      name = image.name;
      const label = labels?.[i];
      const importClassId = label ? classIds.get(label) : undefined;
      if (label && !importClassId) {
        const known = [...classIds.keys()].join(', ');
        throw new AppError(
          'BAD_USER_INPUT',
          `no class named "${label.slice(0, 64)}" (classes: ${known})`,
        );
      }
      const info = await inspectImage(image.bytes, image.name);
      const written = await writeItems({ db: ctx.db, blobs: ctx.blobs }, projectId, [
        { bytes: image.bytes, info, split, sourceRef: image.name, importClassId },
      ]);
      imported += written.imported;
      duplicates += written.duplicates;
      errors.push(...written.issues.map((issue) => ({ ...issue, index: i })));
    } catch (error) {
      if (!isAppError(error, 'BAD_USER_INPUT')) throw error;
      const reason = (error.details?.reason as string) ?? error.message;
      errors.push({ file: name, index: i, reason });
    }
  }
  return {
    imported,
    duplicates,
    failed: errors.length,
    errors,
    ingestWorkflowId: imported > 0 ? await embedLater(ctx, projectId) : null,
  };
}

/** Most images one classifyBatch / classifyBase64 request may send. */
export const MAX_CLASSIFY_BATCH = 64;

function checkBatchSize(count: number): void {
  if (count < 1 || count > MAX_CLASSIFY_BATCH) {
    throw new AppError(
      'BAD_USER_INPUT',
      `send 1..${MAX_CLASSIFY_BATCH} images per request (got ${count})`,
    );
  }
}

/** Strict base64 (the standard alphabet, padded): anything else is refused, not skipped. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64Image(
  image: { name?: string | null; data: string },
  position: number,
  maxBytes: number,
): { name: string; bytes: Uint8Array } {
  const name = image.name || `image-${position}`;
  if (!BASE64.test(image.data)) {
    throw new AppError('BAD_USER_INPUT', `${name}: data is not base64`, { file: name });
  }
  const bytes = Buffer.from(image.data, 'base64');
  if (bytes.length === 0 || bytes.length > maxBytes) {
    throw new AppError('BAD_USER_INPUT', `${name}: ${bytes.length} bytes (1..${maxBytes})`, {
      file: name,
    });
  }
  return { name, bytes };
}

export const itemMutations: Pick<
  MutationResolvers,
  'classify' | 'classifyBatch' | 'classifyBase64' | 'importItems' | 'importFolder' | 'importLabels'
> = {
  async classify(_parent, { project: slug, image, k, store }, ctx) {
    const project = await projectBySlug(ctx, slug, store ? 'ingest' : 'classify', {
      cached: true,
    });
    const upload = await readUpload(image);
    // The encoder decodes (and refuses) the image itself; storing it needs the full check.
    const result = await ctx.classifier.classify(project, upload, checkK(k, project.k));
    let itemId: string | null = null;
    if (store) {
      const info = await inspectImage(upload.bytes, upload.name);
      const written = await writeItems({ db: ctx.db, blobs: ctx.blobs }, project.id, [
        { bytes: upload.bytes, info, split: 'POOL', sourceRef: upload.name },
      ]);
      const hash = blobKeyOf(upload.bytes);
      itemId = (await ctx.db.items.idsByContentHash(project.id, [hash])).get(hash)!;
      if (written.imported > 0) await embedLater(ctx, project.id);
    }
    return { ...result, itemId };
  },
  async classifyBatch(_parent, { project: slug, images, k }, ctx) {
    const project = await projectBySlug(ctx, slug, 'classify', { cached: true });
    checkBatchSize(images.length);
    // graphql-upload has already bounded each file's size and the request's.
    const uploads = await Promise.all(images.map((image) => readUpload(image)));
    const results = await ctx.classifier.classifyBatch(project, uploads, checkK(k, project.k));
    return results.map((result) => ({ ...result, itemId: null }));
  },
  async classifyBase64(_parent, { project: slug, images, k }, ctx) {
    const project = await projectBySlug(ctx, slug, 'classify', { cached: true });
    checkBatchSize(images.length);
    const decoded = images.map((image, i) =>
      decodeBase64Image(image, i, ctx.config.api.maxUploadBytes),
    );
    const results = await ctx.classifier.classifyBatch(project, decoded, checkK(k, project.k));
    return results.map((result) => ({ ...result, itemId: null }));
  },
  async importItems(_parent, { project: slug, files, split, labels }, ctx) {
    const project = await projectBySlug(ctx, slug, 'ingest');
    if (files.length === 0) throw new AppError('BAD_USER_INPUT', 'no files given');
    return storeImages(ctx, project.id, files, split ?? 'POOL', labels);
  },
  async importFolder(_parent, { project: slug, path: folder, split, labelsFromFolders }, ctx) {
    requirePlatformAdmin(ctx.viewer);
    const project = await projectBySlug(ctx, slug, 'administer');
    const summary = await importFolder(
      { db: ctx.db, blobs: ctx.blobs },
      {
        folder: await underImportRoot(ctx.config.api.importRoot, folder),
        slug: project.slug,
        split: split ?? 'POOL',
        labelsFrom: labelsFromFolders ? 'folders' : 'none',
      },
    );
    return {
      imported: summary.imported,
      duplicates: summary.duplicates,
      failed: summary.failed,
      errors: summary.errors,
      ingestWorkflowId: summary.imported > 0 ? await embedLater(ctx, project.id) : null,
    };
  },
  async importLabels(_parent, { project: slug, jsonl }, ctx) {
    const project = await projectBySlug(ctx, slug, 'ingest');
    return ctx.db.labels.importPairs(project.id, parseLabelLines(jsonl), actor(ctx.viewer));
  },
};
