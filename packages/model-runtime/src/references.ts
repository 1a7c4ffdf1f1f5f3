import {
  VECTOR_DIMS,
  type Database,
  type LabelClass,
  type LabeledVectorRow,
  type LabelSource,
} from '@beanstalk/db';
import { Scorer, stackRows, type References } from '@beanstalk/ml';

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

/** A Scorer over a reference set; release it when done. */
export function scorerFor(set: ReferenceSet, options: { k: number; threads?: number }) {
  return Scorer.create(set.references, options);
}
