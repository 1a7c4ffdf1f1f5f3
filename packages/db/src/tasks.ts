import type { Pool, PoolClient } from 'pg';
import { AppError } from '@beanstalk/shared';
import { appendLabel } from './labels.ts';

/**
 * The label budget, derived rather than counted: total is the ledger's sum, spent is the
 * number of human labels, reserved is the number of tasks still open or claimed.
 */
export interface Budget {
  total: number;
  spent: number;
  reserved: number;
  remaining: number;
}

export async function budgetOf(db: Pool | PoolClient, projectId: string): Promise<Budget> {
  const { rows } = await db.query<{ total: string; spent: string; reserved: string }>(
    `SELECT (SELECT coalesce(sum(amount), 0) FROM budget_events WHERE project_id = $1) AS total,
            (SELECT count(*) FROM labels WHERE project_id = $1 AND source = 'HUMAN') AS spent,
            (SELECT count(*) FROM label_tasks
              WHERE project_id = $1 AND status IN ('OPEN', 'CLAIMED')) AS reserved`,
    [projectId],
  );
  const total = Number(rows[0]!.total);
  const spent = Number(rows[0]!.spent);
  const reserved = Number(rows[0]!.reserved);
  return { total, spent, reserved, remaining: Math.max(0, total - spent - reserved) };
}

/** Serialises budget decisions of one project (selection, task creation) across processes. */
export async function lockProjectBudget(client: PoolClient, projectId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('budget:' || $1))`, [projectId]);
}

export interface ClaimedTask {
  id: string;
  itemId: string;
  roundId: string;
  leaseExpiresAt: Date;
}

/**
 * Gives an annotator the highest-priority open task of a project, leased for `leaseSeconds`;
 * concurrent annotators never get the same task (SKIP LOCKED).
 */
export async function claimNextTask(
  db: Pool,
  input: { projectId: string; annotatorId: string | null; leaseSeconds: number },
): Promise<ClaimedTask | null> {
  const { rows } = await db.query<{
    id: string;
    item_id: string;
    round_id: string;
    lease_expires_at: Date;
  }>(
    `UPDATE label_tasks t
        SET status = 'CLAIMED', assignee_id = $2, claimed_at = now(),
            lease_expires_at = now() + make_interval(secs => $3)
      WHERE t.id = (SELECT id FROM label_tasks
                     WHERE project_id = $1 AND status = 'OPEN'
                     ORDER BY priority DESC, created_at, id
                     LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING t.id, t.item_id, t.round_id, t.lease_expires_at`,
    [input.projectId, input.annotatorId, input.leaseSeconds],
  );
  const row = rows[0];
  return row
    ? {
        id: row.id,
        itemId: row.item_id,
        roundId: row.round_id,
        leaseExpiresAt: row.lease_expires_at,
      }
    : null;
}

export interface TaskSubmission {
  taskId: string;
  labelClassId: string;
  annotatorId?: string | null;
}

export interface StoredSubmission {
  labelId: string;
  roundId: string;
  itemId: string;
  /** The same answer had been stored already; nothing was written. */
  duplicate: boolean;
}

/**
 * Records a human answer to a task: the label (source HUMAN, tied to the task) and the task
 * marked done, in one transaction. Sending the same answer again is a no-op that returns the
 * stored label; a different answer to a done task, an expired lease, someone else's claim, a
 * skipped task, or a retired or foreign class is refused with a reason.
 */
export async function submitTaskLabel(
  pool: Pool,
  submission: TaskSubmission,
): Promise<StoredSubmission> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{
      project_id: string;
      item_id: string;
      round_id: string;
      status: string;
      assignee_id: string | null;
      lease_over: boolean;
    }>(
      `SELECT project_id, item_id, round_id, status, assignee_id,
              status = 'CLAIMED' AND lease_expires_at < now() AS lease_over
         FROM label_tasks WHERE id = $1 FOR UPDATE`,
      [submission.taskId],
    );
    const task = rows[0];
    if (!task) throw new AppError('NOT_FOUND', `task ${submission.taskId} does not exist`);
    if (task.status === 'DONE') {
      const stored = await client.query<{
        id: string;
        label_class_id: string;
        annotator_id: string | null;
      }>('SELECT id, label_class_id, annotator_id FROM labels WHERE task_id = $1', [
        submission.taskId,
      ]);
      const label = stored.rows[0];
      if (
        label &&
        label.label_class_id === submission.labelClassId &&
        label.annotator_id === (submission.annotatorId ?? null)
      ) {
        await client.query('COMMIT');
        return { labelId: label.id, roundId: task.round_id, itemId: task.item_id, duplicate: true };
      }
      throw new AppError('CONFLICT', `task ${submission.taskId} already has a label`);
    }
    if (task.status === 'EXPIRED' || task.status === 'SKIPPED' || task.lease_over) {
      throw new AppError(
        'CONFLICT',
        `task ${submission.taskId} is ${task.lease_over ? 'past its lease' : task.status.toLowerCase()}; its item went back to the pool`,
      );
    }
    if (task.assignee_id && submission.annotatorId && task.assignee_id !== submission.annotatorId) {
      throw new AppError('CONFLICT', `task ${submission.taskId} is claimed by someone else`);
    }
    const classes = await client.query<{ retired_at: Date | null }>(
      'SELECT retired_at FROM label_classes WHERE id = $1 AND project_id = $2',
      [submission.labelClassId, task.project_id],
    );
    if (!classes.rows[0]) {
      throw new AppError(
        'BAD_USER_INPUT',
        `class ${submission.labelClassId} is not a class of this project`,
      );
    }
    if (classes.rows[0].retired_at) {
      throw new AppError('BAD_USER_INPUT', `class ${submission.labelClassId} is retired`);
    }
    const current = await client.query<{ id: string }>(
      'SELECT id FROM current_labels WHERE item_id = $1',
      [task.item_id],
    );
    const labelId = await appendLabel(client, {
      projectId: task.project_id,
      itemId: task.item_id,
      labelClassId: submission.labelClassId,
      source: 'HUMAN',
      annotatorId: submission.annotatorId ?? null,
      roundId: task.round_id,
      taskId: submission.taskId,
      supersedesId: current.rows[0]?.id ?? null,
    });
    await client.query(
      `UPDATE label_tasks SET status = 'DONE', completed_at = now() WHERE id = $1`,
      [submission.taskId],
    );
    await client.query('COMMIT');
    return { labelId, roundId: task.round_id, itemId: task.item_id, duplicate: false };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Gives a claimed or open task back unanswered: it is marked SKIPPED, so its budget
 * reservation is released and its item can be selected again in a later round.
 */
export async function skipTask(
  pool: Pool,
  input: { taskId: string; annotatorId: string | null },
): Promise<{ roundId: string }> {
  const { rows } = await pool.query<{ round_id: string }>(
    `UPDATE label_tasks SET status = 'SKIPPED', completed_at = now()
      WHERE id = $1 AND status IN ('OPEN', 'CLAIMED')
        AND ($2::uuid IS NULL OR assignee_id IS NULL OR assignee_id = $2)
      RETURNING round_id`,
    [input.taskId, input.annotatorId],
  );
  if (rows[0]) return { roundId: rows[0].round_id };
  const { rows: found } = await pool.query<{ status: string }>(
    'SELECT status FROM label_tasks WHERE id = $1',
    [input.taskId],
  );
  if (!found[0]) throw new AppError('NOT_FOUND', `task ${input.taskId} does not exist`);
  throw new AppError(
    'CONFLICT',
    found[0].status === 'CLAIMED'
      ? `task ${input.taskId} is claimed by someone else`
      : `task ${input.taskId} is already ${found[0].status.toLowerCase()}`,
  );
}

/**
 * Expires claimed tasks whose lease ran out (and, with `allOpen`, every unfinished task of the
 * round): the item goes back to the pool and its budget reservation is released.
 */
export async function expireTasks(
  db: Pool | PoolClient,
  roundId: string,
  options: { allOpen?: boolean } = {},
): Promise<number> {
  const result = await db.query(
    `UPDATE label_tasks SET status = 'EXPIRED'
      WHERE round_id = $1
        AND (status = 'CLAIMED' AND lease_expires_at < now()
             OR $2 AND status IN ('OPEN', 'CLAIMED'))`,
    [roundId, options.allOpen ?? false],
  );
  return result.rowCount ?? 0;
}

export interface TaskCounts {
  open: number;
  claimed: number;
  done: number;
  expired: number;
  skipped: number;
}

export async function taskCounts(db: Pool | PoolClient, roundId: string): Promise<TaskCounts> {
  const { rows } = await db.query<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM label_tasks WHERE round_id = $1 GROUP BY status',
    [roundId],
  );
  const of = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return {
    open: of('OPEN'),
    claimed: of('CLAIMED'),
    done: of('DONE'),
    expired: of('EXPIRED'),
    skipped: of('SKIPPED'),
  };
}
