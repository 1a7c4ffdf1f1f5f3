import { AppError, isUuid } from '@beanstalk/shared';
import type { GoldTask, Label, LabelTask } from '../generated/prisma/client.ts';
import { asModel, type Queryable } from '../queryable.ts';
import { refuseUnanswerable } from './answer-checks.ts';

/** Gold answers below which an annotator's gold accuracy says too little to warn about. */
export const MIN_GOLD_ANSWERS = 5;

/**
 * Whether an annotator's claim number `n` (0-based) is a gold question at `rate`: evenly
 * spread (over any N claims, N x rate of them, give or take one), shifted by a phase drawn
 * from the person's id so that nobody's gold questions fall on the same claim numbers.
 */
export function isGoldClaim(annotatorId: string, n: number, rate: number): boolean {
  if (!(rate > 0)) return false;
  const phase = parseInt(annotatorId.replace(/-/g, '').slice(0, 8), 16) / 2 ** 32;
  return Math.floor((n + 1) * rate + phase) > Math.floor(n * rate + phase);
}

/** A gold task as the label queue shows it: a LabelTask like any other. */
function asLabelTask(gold: GoldTask): LabelTask {
  return {
    id: gold.id,
    projectId: gold.projectId,
    roundId: gold.roundId,
    itemId: gold.itemId,
    status: gold.status,
    priority: gold.priority,
    assigneeId: gold.annotatorId,
    leaseExpiresAt: gold.leaseExpiresAt,
    claimedAt: gold.claimedAt,
    completedAt: gold.answeredAt,
    excludeAnnotatorIds: [],
    createdAt: gold.claimedAt,
  };
}

/** The answer to a gold question in the shape of the label a task answer returns. */
function asAnswerLabel(gold: GoldTask): Label {
  return {
    id: gold.id,
    projectId: gold.projectId,
    itemId: gold.itemId,
    labelClassId: gold.answerClassId,
    source: 'HUMAN',
    annotatorId: gold.annotatorId,
    apiKeyId: null,
    roundId: gold.roundId,
    taskId: gold.id,
    confidence: null,
    reason: null,
    supersedesId: null,
    createdAt: gold.answeredAt ?? gold.claimedAt,
  };
}

/**
 * Gold questions: GOLD items (answer known) put to annotators among their label tasks at the
 * project's `gold_rate`, answered and skipped through the same operations as tasks, scored
 * against the gold label and never stored as labels. Not counted in the label budget.
 */
export class GoldRepository {
  constructor(private readonly db: Queryable) {}

  async byId(id: string): Promise<LabelTask | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query('SELECT * FROM gold_tasks WHERE id = $1', [id]);
    const gold = asModel<GoldTask>(rows[0]);
    return gold ? asLabelTask(gold) : null;
  }

  /**
   * The gold question for this claim, when the claim's number falls on the project's rate, a
   * real task is waiting (a gold question never comes alone, so an empty queue stays empty)
   * and a gold item with a label remains that the person has not been asked. It takes the
   * round and priority of that waiting task. Runs in the claim's transaction, under the lock
   * on the person's claims.
   */
  async claim(input: {
    projectId: string;
    annotatorId: string;
    leaseSeconds: number;
  }): Promise<LabelTask | null> {
    // Every claim comes here: a project without gold questions costs one primary-key read.
    const { rows: rate } = await this.db.query<{ gold_rate: number }>(
      'SELECT gold_rate FROM projects WHERE id = $1',
      [input.projectId],
    );
    if (!((rate[0]?.gold_rate ?? 0) > 0)) return null;
    const { rows: state } = await this.db.query<{
      rate: number;
      claims: number;
      round_id: string | null;
      priority: number | null;
    }>(
      `SELECT p.gold_rate AS rate,
              (SELECT count(*)::int FROM label_tasks
                WHERE project_id = p.id AND assignee_id = $2)
            + (SELECT count(*)::int FROM gold_tasks
                WHERE project_id = p.id AND annotator_id = $2) AS claims,
              next.round_id, next.priority
         FROM projects p
         LEFT JOIN LATERAL (
           SELECT o.round_id, o.priority FROM label_tasks o JOIN rounds r ON r.id = o.round_id
            WHERE o.project_id = p.id AND o.status = 'OPEN'
              AND r.status IN ('SELECTING', 'LABELING')
              AND NOT ($2::uuid = ANY(o.exclude_annotator_ids))
            ORDER BY o.priority DESC, o.created_at, o.id LIMIT 1) next ON true
        WHERE p.id = $1`,
      [input.projectId, input.annotatorId],
    );
    const s = state[0];
    if (!s?.round_id || !isGoldClaim(input.annotatorId, s.claims, s.rate)) return null;
    const { rows } = await this.db.query(
      `INSERT INTO gold_tasks (project_id, item_id, annotator_id, round_id, expected_class_id,
                               priority, lease_expires_at)
       SELECT $1, i.id, $2, $3, cl.label_class_id, $4, now() + make_interval(secs => $5)
         FROM items i JOIN current_labels cl ON cl.item_id = i.id
        WHERE i.project_id = $1 AND i.split = 'GOLD' AND cl.label_class_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM gold_tasks g
                           WHERE g.item_id = i.id AND g.annotator_id = $2)
        ORDER BY md5(i.content_hash || $2::text), i.id
        LIMIT 1
       ON CONFLICT (item_id, annotator_id) DO NOTHING
       RETURNING *`,
      [input.projectId, input.annotatorId, s.round_id, s.priority, input.leaseSeconds],
    );
    const gold = asModel<GoldTask>(rows[0]);
    return gold ? asLabelTask(gold) : null;
  }

  /**
   * Records the answer to a gold question (locked; checks like a task's answer: lease, owner,
   * class). Null when `taskId` is no gold question. The same answer again is a duplicate.
   */
  async answer(input: {
    taskId: string;
    labelClassId: string;
    annotatorId: string | null;
    authorize?: (projectId: string) => void;
  }): Promise<{ label: Label; task: LabelTask; duplicate: boolean } | null> {
    const { rows } = await this.db.query<
      Record<string, unknown> & {
        lease_over: boolean;
        class_name: string | null;
        class_retired: boolean | null;
      }
    >(
      `SELECT g.*, g.status = 'CLAIMED' AND g.lease_expires_at < now() AS lease_over,
              c.name AS class_name, c.retired_at IS NOT NULL AS class_retired
         FROM gold_tasks g
         LEFT JOIN label_classes c ON c.project_id = g.project_id AND c.id = $2
        WHERE g.id = $1
        FOR UPDATE OF g`,
      [input.taskId, isUuid(input.labelClassId) ? input.labelClassId : null],
    );
    const row = rows[0];
    if (!row) return null;
    const { lease_over, class_name, class_retired, ...goldRow } = row;
    const gold = asModel<GoldTask>(goldRow)!;
    input.authorize?.(gold.projectId);
    // The refusals read as a task's would: nothing tells a gold question apart.
    if (gold.status === 'DONE') {
      if (gold.answerClassId === input.labelClassId && gold.annotatorId === input.annotatorId) {
        return { label: asAnswerLabel(gold), task: asLabelTask(gold), duplicate: true };
      }
      throw new AppError('CONFLICT', `task ${gold.id} already has a label`);
    }
    refuseUnanswerable({
      taskId: gold.id,
      status: gold.status,
      leaseOver: lease_over,
      assigneeId: gold.annotatorId,
      annotatorId: input.annotatorId,
      labelClassId: input.labelClassId,
      cls: class_name ? { name: class_name, retired: !!class_retired } : null,
    });
    const { rows: done } = await this.db.query(
      `UPDATE gold_tasks SET status = 'DONE', answer_class_id = $2, answered_at = now()
        WHERE id = $1 RETURNING *`,
      [gold.id, input.labelClassId],
    );
    const answered = asModel<GoldTask>(done[0])!;
    return { label: asAnswerLabel(answered), task: asLabelTask(answered), duplicate: false };
  }

  /** Gives a gold question back unanswered; null when `taskId` is no gold question. */
  async skip(input: { taskId: string; annotatorId: string | null }): Promise<LabelTask | null> {
    if (!isUuid(input.taskId)) return null;
    const { rows } = await this.db.query(
      `UPDATE gold_tasks SET status = 'SKIPPED', answered_at = now()
        WHERE id = $1 AND status = 'CLAIMED' AND annotator_id IS NOT DISTINCT FROM $2::uuid
        RETURNING *`,
      [input.taskId, input.annotatorId],
    );
    const gold = asModel<GoldTask>(rows[0]);
    if (gold) return asLabelTask(gold);
    const found = await this.byId(input.taskId);
    if (!found) return null;
    throw new AppError(
      'CONFLICT',
      found.status === 'CLAIMED'
        ? `task ${input.taskId} is claimed by someone else`
        : `task ${input.taskId} is already ${found.status.toLowerCase()}`,
    );
  }
}
