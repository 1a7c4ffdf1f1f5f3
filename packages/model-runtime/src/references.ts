import {
  VECTOR_DIMS,
  type Database,
  type LabelClass,
  type LabeledVectorRow,
  type LabelSource,
} from '@beanstalk/db';
import {
  MIN_NORMAL_LABELS,
  POOL_ANOMALY_SAMPLE,
  Scorer,
  stackRows,
  type AnomalyReferences,
  type InferenceThread,
  type References,
} from '@beanstalk/ml';

/** A head's labeled references as the database holds them and as the Scorer takes them. */
export interface ReferenceSet {
  headVersionId: string;
  projectId: string;
  /** The project's classes in position order: class index i is classes[i]. */
  classes: LabelClass[];
  /** One per reference, in the order of `references` (item ids, label sources). */
  rows: LabeledVectorRow[];
  references: References;
}

/**
 * The labeled pool items of a head's vector set (human, imported, gold and auto labels): what
 * every kNN vote of the platform is taken against.
 */
export async function loadReferences(
  db: Database,
  input: { headVersionId: string; projectId: string },
): Promise<ReferenceSet> {
  const [{ classes, indexOf }, rows] = await Promise.all([
    db.classes.index(input.projectId),
    db.vectorSets.readPage({ headVersionId: input.headVersionId, splits: ['POOL'], labeled: true }),
  ]);
  return toReferenceSet(input, classes, indexOf, rows);
}

function toReferenceSet(
  input: { headVersionId: string; projectId: string },
  classes: LabelClass[],
  indexOf: Map<string, number>,
  rows: LabeledVectorRow[],
): ReferenceSet {
  return {
    ...input,
    classes,
    rows,
    references: {
      vectors: stackRows(
        rows.map((r) => r.vector),
        VECTOR_DIMS,
      ),
      dims: VECTOR_DIMS,
      labels: Int32Array.from(rows, (r) => indexOf.get(r.labelClassId!)!),
      normal: classes.map((c) => c.isNormal),
    },
  };
}

/** The references whose labels came from these sources (auto-accept trusts people only). */
export function onlySources(set: ReferenceSet, sources: LabelSource[]): ReferenceSet {
  const indexOf = new Map(set.classes.map((c, i) => [c.id, i]));
  return toReferenceSet(
    set,
    set.classes,
    indexOf,
    set.rows.filter((r) => r.labelSource && sources.includes(r.labelSource)),
  );
}

/**
 * What the anomaly score compares with, in the encoder's backbone space (`encoderVersionId`:
 * the head's): the labeled normal items of the set, and while there are fewer than
 * MIN_NORMAL_LABELS of them, also a fixed sample of the unlabeled pool. Null when there is
 * nothing to compare with (the score is then a constant).
 */
export async function loadAnomalyReferences(
  db: Database,
  set: ReferenceSet,
  encoderVersionId: string,
): Promise<AnomalyReferences | null> {
  const normalIds = set.rows
    .filter((_, i) => set.classes[set.references.labels[i]!]!.isNormal)
    .map((r) => r.itemId);
  const [features, pool] = await Promise.all([
    normalIds.length
      ? db.features.of(encoderVersionId, normalIds)
      : new Map<string, Float32Array>(),
    normalIds.length < MIN_NORMAL_LABELS
      ? db.features.unlabeledPoolSample(set.headVersionId, POOL_ANOMALY_SAMPLE)
      : [],
  ]);
  const labeled = normalIds.flatMap((id) => features.get(id) ?? []);
  const rows = [...labeled, ...pool];
  if (rows.length === 0) return null;
  const dims = rows[0]!.length;
  return { vectors: stackRows(rows, dims), dims, labeled: labeled.length };
}

/** A Scorer over a reference set (anomaly scores against `anomaly`); release it when done. */
export function scorerFor(
  set: ReferenceSet,
  options: { k: number; maxK?: number; threads?: number; thread?: InferenceThread },
  anomaly?: AnomalyReferences | null,
) {
  return Scorer.create(set.references, { ...options, anomaly: anomaly ?? undefined });
}
