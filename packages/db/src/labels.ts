import type { Pool, PoolClient } from 'pg';
import { AppError } from '@beanstalk/shared';
import type { LabelSource } from './vectors.ts';

export interface NewLabel {
  projectId: string;
  itemId: string;
  /** null withdraws the item's label (a reverted auto label). */
  labelClassId: string | null;
  source: LabelSource;
  annotatorId?: string | null;
  roundId?: string | null;
  taskId?: string | null;
  confidence?: number | null;
  reason?: string | null;
  /**
   * The label this one replaces: null for an item's first label. A stale value (someone else
   * relabeled first) is refused with CONFLICT instead of overwriting their label.
   */
  supersedesId: string | null;
}

export interface CurrentLabel {
  id: string;
  itemId: string;
  labelClassId: string | null;
  source: LabelSource;
  roundId: string | null;
  createdAt: Date;
}

const UNIQUE_VIOLATION = '23505';

/** Appends one label to an item's history; never changes an existing row. */
export async function appendLabel(db: Pool | PoolClient, label: NewLabel): Promise<string> {
  try {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO labels (project_id, item_id, label_class_id, source, annotator_id, round_id,
                           task_id, confidence, reason, supersedes_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [
        label.projectId,
        label.itemId,
        label.labelClassId,
        label.source,
        label.annotatorId ?? null,
        label.roundId ?? null,
        label.taskId ?? null,
        label.confidence ?? null,
        label.reason ?? null,
        label.supersedesId,
      ],
    );
    return rows[0]!.id;
  } catch (error) {
    const pgError = error as { code?: string; constraint?: string };
    if (pgError.code === UNIQUE_VIOLATION) {
      const what =
        pgError.constraint === 'labels_task_id_key'
          ? `task ${label.taskId} already has a label`
          : `item ${label.itemId} was labeled meanwhile; reload its current label and supersede that`;
      throw new AppError('CONFLICT', what);
    }
    throw error;
  }
}

/** Current labels (the heads of each item's history) for the given items. */
export async function currentLabels(
  db: Pool | PoolClient,
  itemIds: string[],
): Promise<Map<string, CurrentLabel>> {
  const { rows } = await db.query<{
    id: string;
    item_id: string;
    label_class_id: string | null;
    source: LabelSource;
    round_id: string | null;
    created_at: Date;
  }>(
    `SELECT id, item_id, label_class_id, source, round_id, created_at FROM current_labels
      WHERE item_id = ANY($1::uuid[])`,
    [itemIds],
  );
  return new Map(
    rows.map((r) => [
      r.item_id,
      {
        id: r.id,
        itemId: r.item_id,
        labelClassId: r.label_class_id,
        source: r.source,
        roundId: r.round_id,
        createdAt: r.created_at,
      },
    ]),
  );
}

/**
 * Withdraws the auto labels of a round that are still current (a human may have corrected
 * some since; those stand): each gets a superseding row with no class, so history keeps both
 * and the items return to the pool. Returns how many were withdrawn.
 */
export async function revertAutoLabels(
  db: Pool | PoolClient,
  input: { roundId: string; annotatorId?: string | null; reason?: string },
): Promise<number> {
  const result = await db.query(
    `INSERT INTO labels (project_id, item_id, label_class_id, source, annotator_id, round_id,
                         reason, supersedes_id)
     SELECT cl.project_id, cl.item_id, NULL, 'AUTO', $2, $1, $3, cl.id
       FROM current_labels cl
      WHERE cl.round_id = $1 AND cl.source = 'AUTO' AND cl.label_class_id IS NOT NULL
     ON CONFLICT DO NOTHING`,
    [input.roundId, input.annotatorId ?? null, input.reason ?? 'auto labels reverted'],
  );
  return result.rowCount ?? 0;
}
