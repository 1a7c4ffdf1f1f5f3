import { AppError, isUuid } from '@beanstalk/shared';
import type { Label } from '../generated/prisma/client.ts';
import { asModel, transaction, UNIQUE_VIOLATION, type Queryable } from '../queryable.ts';
import { BudgetRepository } from './budget.ts';
import type { LabelSource, Split } from './vector-sets.ts';

export interface NewLabel {
  projectId: string;
  itemId: string;
  /** null withdraws the item's label (a reverted auto label). */
  labelClassId: string | null;
  source: LabelSource;
  annotatorId?: string | null;
  /** The integrator's API key, when a key acted rather than a person. */
  apiKeyId?: string | null;
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

/** One current label as an export writes it; items are named by content hash. */
export interface ExportedLabel {
  itemId: string;
  contentHash: string;
  sourceRef: string | null;
  split: string;
  className: string;
  classPosition: number;
  source: LabelSource;
  confidence: number | null;
  labeledAt: Date;
}

export interface AnnotatorStats {
  userId: string | null;
  labels: number;
  skipped: number;
  labelsPerHour: number;
  /** Gold questions answered, and answered with the gold label's class. */
  goldAnswered: number;
  goldCorrect: number;
  /**
   * Comparisons with other people on the same items (each other person's latest human label
   * against this person's latest), and how many gave the same class.
   */
  compared: number;
  agreed: number;
}

/**
 * Refuses a class that is not the project's or no longer takes labels. One query; used inside
 * the transactions that write labels, so the check and the write see the same class.
 */
export async function checkUsableClass(
  db: Queryable,
  projectId: string,
  labelClassId: string,
): Promise<void> {
  // A malformed id would abort the caller's transaction as a SQL error; it is simply unknown.
  const { rows } = isUuid(labelClassId)
    ? await db.query<{ name: string; retired: boolean }>(
        `SELECT name, retired_at IS NOT NULL AS retired FROM label_classes
          WHERE id = $1 AND project_id = $2`,
        [labelClassId, projectId],
      )
    : { rows: [] };
  if (!rows[0]) {
    throw new AppError('BAD_USER_INPUT', `class ${labelClassId} is not a class of this project`);
  }
  if (rows[0].retired) throw new AppError('BAD_USER_INPUT', `class ${rows[0].name} is retired`);
}

/** Translates the label table's unique keys into CONFLICT errors people can act on. */
export function labelConflict(error: unknown, label: { taskId?: string | null; itemId: string }) {
  const pgError = error as { code?: string; constraint?: string };
  if (pgError.code !== UNIQUE_VIOLATION) return error;
  return new AppError(
    'CONFLICT',
    pgError.constraint === 'labels_task_id_key'
      ? `task ${label.taskId} already has a label`
      : `item ${label.itemId} was labeled meanwhile; reload its current label and supersede that`,
  );
}

/** The current labels a head trains on (forTraining): pool items, no AUTO labels; `$1` the project. */
const TRAINING_LABELS = `FROM current_labels cl JOIN items i ON i.id = cl.item_id
  WHERE cl.project_id = $1 AND i.split = 'POOL' AND cl.label_class_id IS NOT NULL
    AND cl.source <> 'AUTO'`;

/**
 * Labels: an append-only history per item (a trigger refuses UPDATE and DELETE); the current
 * label of an item is the row nothing supersedes.
 */
export class LabelRepository {
  constructor(private readonly db: Queryable) {}

  /** Appends one label to an item's history; never changes an existing row. */
  async append(label: NewLabel): Promise<string> {
    try {
      const { rows } = await this.db.query<{ id: string }>(
        `INSERT INTO labels (project_id, item_id, label_class_id, source, annotator_id, round_id,
                             task_id, confidence, reason, supersedes_id, api_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
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
          label.apiKeyId ?? null,
        ],
      );
      return rows[0]!.id;
    } catch (error) {
      throw labelConflict(error, label);
    }
  }

  async byId(id: string): Promise<Label | null> {
    const { rows } = await this.db.query('SELECT * FROM labels WHERE id = $1', [id]);
    return asModel<Label>(rows[0]);
  }

  async byIds(ids: readonly string[]): Promise<Label[]> {
    const { rows } = await this.db.query('SELECT * FROM labels WHERE id = ANY($1::uuid[])', [ids]);
    return rows.map((r) => asModel<Label>(r)!);
  }

  /** Current labels (the heads of each item's history) for the given items. */
  async current(itemIds: string[]): Promise<Map<string, CurrentLabel>> {
    const { rows } = await this.db.query<{
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

  /** The label histories of items, oldest first. */
  async histories(itemIds: readonly string[]): Promise<Label[]> {
    const { rows } = await this.db.query(
      'SELECT * FROM labels WHERE item_id = ANY($1::uuid[]) ORDER BY created_at, id',
      [itemIds],
    );
    return rows.map((r) => asModel<Label>(r)!);
  }

  /**
   * A person's label on any item of the project (a correction, or a label next to a task),
   * replacing its current one. It spends a label of budget, taken under the budget lock.
   */
  relabel(input: {
    projectId: string;
    itemId: string;
    labelClassId: string;
    annotatorId: string | null;
    apiKeyId?: string | null;
    reason: string;
  }): Promise<Label> {
    if (!input.reason.trim()) {
      throw new AppError('BAD_USER_INPUT', 'say why the label changes (reason)');
    }
    return transaction(this.db, async (client) => {
      const labels = new LabelRepository(client);
      await checkUsableClass(client, input.projectId, input.labelClassId);
      await new BudgetRepository(client).reserve(input.projectId, 1, 'a relabel');
      const current = (await labels.current([input.itemId])).get(input.itemId);
      if (current?.labelClassId === input.labelClassId && current.source === 'HUMAN') {
        throw new AppError('CONFLICT', 'the item already has this label from a person');
      }
      const id = await labels.append({
        projectId: input.projectId,
        itemId: input.itemId,
        labelClassId: input.labelClassId,
        source: 'HUMAN',
        annotatorId: input.annotatorId,
        apiKeyId: input.apiKeyId,
        reason: input.reason,
        supersedesId: current?.id ?? null,
      });
      return (await labels.byId(id))!;
    });
  }

  /** Withdraws an item's current auto label (the item returns to the pool). */
  async revertAuto(input: {
    projectId: string;
    itemId: string;
    annotatorId: string | null;
    apiKeyId?: string | null;
    reason?: string | null;
  }): Promise<Label> {
    const current = (await this.current([input.itemId])).get(input.itemId);
    if (!current || current.source !== 'AUTO' || !current.labelClassId) {
      throw new AppError('CONFLICT', "the item's current label is not an auto label");
    }
    const id = await this.append({
      projectId: input.projectId,
      itemId: input.itemId,
      labelClassId: null,
      source: 'AUTO',
      annotatorId: input.annotatorId,
      apiKeyId: input.apiKeyId,
      roundId: current.roundId,
      reason: input.reason ?? 'auto label reverted',
      supersedesId: current.id,
    });
    return (await this.byId(id))!;
  }

  /**
   * Withdraws the auto labels of a round that are still current (a human may have corrected
   * some since; those stand): each gets a superseding row with no class, so history keeps both
   * and the items return to the pool. Returns how many were withdrawn.
   */
  async revertAutoOfRound(input: {
    roundId: string;
    annotatorId?: string | null;
    apiKeyId?: string | null;
    reason?: string | null;
  }): Promise<number> {
    const result = await this.db.query(
      `INSERT INTO labels (project_id, item_id, label_class_id, source, annotator_id, round_id,
                           reason, supersedes_id, api_key_id)
       SELECT cl.project_id, cl.item_id, NULL, 'AUTO', $2, $1, $3, cl.id, $4
         FROM current_labels cl
        WHERE cl.round_id = $1 AND cl.source = 'AUTO' AND cl.label_class_id IS NOT NULL
       ON CONFLICT DO NOTHING`,
      [
        input.roundId,
        input.annotatorId ?? null,
        input.reason ?? 'auto labels reverted',
        input.apiKeyId ?? null,
      ],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Auto labels for pool items voted on at or above the round's threshold, on items with no
   * label history and no open task. One statement: an item a person labels meanwhile keeps
   * their label (the insert skips it).
   */
  async acceptVotes(input: {
    roundId: string;
    threshold: number;
    precisionTarget: number;
    votes: { itemId: string; labelClassId: string; confidence: number }[];
  }): Promise<number> {
    const result = await this.db.query(
      `INSERT INTO labels (project_id, item_id, label_class_id, source, round_id, confidence,
                           reason, supersedes_id)
       SELECT i.project_id, x.item_id, x.label_class_id, 'AUTO', $1, x.confidence,
              'kNN confidence ' || round(x.confidence::numeric, 3) || ' >= ' ||
                round($2::numeric, 3) || ' (precision target ' || $3 || ')', NULL
         FROM jsonb_to_recordset($4::jsonb) AS x(item_id uuid, label_class_id uuid,
              confidence float8)
         JOIN items i ON i.id = x.item_id AND i.split = 'POOL'
        WHERE x.confidence >= $2
          AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = x.item_id)
          AND NOT EXISTS (SELECT 1 FROM label_tasks t WHERE t.item_id = x.item_id
                           AND t.status IN ('OPEN', 'CLAIMED'))
       ON CONFLICT DO NOTHING`,
      [
        input.roundId,
        input.threshold,
        input.precisionTarget,
        JSON.stringify(
          input.votes.map((v) => ({
            item_id: v.itemId,
            label_class_id: v.labelClassId,
            confidence: v.confidence,
          })),
        ),
      ],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Simulation projects only: how many of a round's auto labels agree with the hidden ground
   * truth of their items (those with one). Null when none of them has hidden truth.
   */
  async autoTruthOfRound(roundId: string): Promise<{ checked: number; right: number } | null> {
    const { rows } = await this.db.query<{ checked: number; right: number }>(
      `SELECT count(*)::int AS checked,
              count(*) FILTER (WHERE h.label_class_id = l.label_class_id)::int AS right
         FROM labels l JOIN hidden_truth h ON h.item_id = l.item_id
         JOIN projects p ON p.id = l.project_id AND p.simulation
        WHERE l.round_id = $1 AND l.source = 'AUTO' AND l.label_class_id IS NOT NULL
          AND l.supersedes_id IS NULL`,
      [roundId],
    );
    return rows[0]!.checked > 0 ? rows[0]! : null;
  }

  /** Auto labels a round added (still current or not). */
  async countAutoOfRound(roundId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM labels
        WHERE round_id = $1 AND source = 'AUTO' AND label_class_id IS NOT NULL`,
      [roundId],
    );
    return rows[0]!.n;
  }

  /** Human labels of a project (what the budget has spent). */
  async countHuman(projectId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM labels WHERE project_id = $1 AND source = 'HUMAN'`,
      [projectId],
    );
    return rows[0]!.n;
  }

  /** Human labels of a project by the split of their items (the eval sample is part of spent). */
  async countHumanBySplit(projectId: string): Promise<Record<Split, number>> {
    const { rows } = await this.db.query<{ split: Split; n: number }>(
      `SELECT i.split, count(*)::int AS n FROM labels l JOIN items i ON i.id = l.item_id
        WHERE l.project_id = $1 AND l.source = 'HUMAN' GROUP BY i.split`,
      [projectId],
    );
    const counts: Record<Split, number> = { POOL: 0, EVAL: 0, GOLD: 0 };
    for (const r of rows) counts[r.split] = r.n;
    return counts;
  }

  /**
   * How many labels forTraining would return, counted up to `upTo` at most (a caller asking
   * whether there are fewer than some number reads no more rows than that).
   */
  async countForTraining(projectId: string, upTo: number): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 ${TRAINING_LABELS} LIMIT $2) t`,
      [projectId, upTo],
    );
    return rows[0]!.n;
  }

  /**
   * Current labels a head trains on: pool items, people's (and imported, gold) labels only. In
   * content-hash order, so the same images and labels train the same head (item ids are random:
   * ordered by them, two projects with the same data trained different heads).
   */
  async forTraining(projectId: string): Promise<{ itemId: string; labelClassId: string }[]> {
    const { rows } = await this.db.query<{ item_id: string; label_class_id: string }>(
      `SELECT cl.item_id, cl.label_class_id ${TRAINING_LABELS} ORDER BY i.content_hash, cl.item_id`,
      [projectId],
    );
    return rows.map((r) => ({ itemId: r.item_id, labelClassId: r.label_class_id }));
  }

  /**
   * The labels a label check looks at: current labels people gave or imported, on any split,
   * the newest `limit` of them (the check's cost grows with their square).
   */
  async forCheck(
    projectId: string,
    limit: number,
  ): Promise<{ labelId: string; itemId: string; labelClassId: string }[]> {
    const { rows } = await this.db.query<{
      id: string;
      item_id: string;
      label_class_id: string;
    }>(
      `SELECT id, item_id, label_class_id FROM current_labels
        WHERE project_id = $1 AND label_class_id IS NOT NULL AND source IN ('HUMAN', 'IMPORT')
        ORDER BY created_at DESC, id LIMIT $2`,
      [projectId, limit],
    );
    return rows.map((r) => ({ labelId: r.id, itemId: r.item_id, labelClassId: r.label_class_id }));
  }

  /** A project's current labels, for exports, in content-hash order. */
  async forExport(projectId: string): Promise<ExportedLabel[]> {
    const { rows } = await this.db.query(
      `SELECT i.id AS item_id, i.content_hash, i.source_ref, i.split, c.name AS class_name,
              c.position AS class_position, cl.source, cl.confidence, cl.created_at AS labeled_at
         FROM current_labels cl
         JOIN items i ON i.id = cl.item_id
         JOIN label_classes c ON c.id = cl.label_class_id
        WHERE cl.project_id = $1
        ORDER BY i.content_hash`,
      [projectId],
    );
    return rows.map((r) => asModel<ExportedLabel>(r)!);
  }

  /**
   * Imports labels given as (content hash, class name) pairs. Every pair is checked before
   * anything is written, and all are written in one transaction. An item already carrying the
   * same class is left alone; one a person labeled otherwise keeps that label, and the pair is
   * reported as a conflict (an import never overrules people's ground truth).
   */
  importPairs(
    projectId: string,
    pairs: { contentHash: string; label: string }[],
    actor: { annotatorId?: string | null; apiKeyId?: string | null } = {},
  ): Promise<{
    added: number;
    conflicts: { line: number; contentHash: string; reason: string }[];
  }> {
    return transaction(this.db, async (client) => {
      const { rows } = await client.query<{
        line: number;
        item_id: string | null;
        class_id: string | null;
        retired: boolean | null;
        current_id: string | null;
        current_class: string | null;
        current_source: LabelSource | null;
      }>(
        `SELECT t.line, i.id AS item_id, c.id AS class_id, c.retired_at IS NOT NULL AS retired,
                cl.id AS current_id, cl.label_class_id AS current_class,
                cl.source AS current_source
           FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(hash, label, line)
           LEFT JOIN items i ON i.project_id = $1 AND i.content_hash = t.hash
           LEFT JOIN label_classes c ON c.project_id = $1 AND c.name = t.label
           LEFT JOIN current_labels cl ON cl.item_id = i.id
          ORDER BY t.line`,
        [projectId, pairs.map((p) => p.contentHash), pairs.map((p) => p.label)],
      );
      const problems = rows.flatMap((r) => {
        const p = pairs[r.line - 1]!;
        if (!r.item_id)
          return [`line ${r.line}: no image with content hash ${p.contentHash} in this project`];
        if (!r.class_id) return [`line ${r.line}: unknown class "${p.label}"`];
        if (r.retired) return [`line ${r.line}: class "${p.label}" is retired`];
        return [];
      });
      if (problems.length) {
        throw new AppError('BAD_USER_INPUT', problems.slice(0, 20).join('; '), { problems });
      }
      const labels = new LabelRepository(client);
      let added = 0;
      const conflicts: { line: number; contentHash: string; reason: string }[] = [];
      for (const r of rows) {
        if (r.current_class === r.class_id) continue;
        if (r.current_class && r.current_source === 'HUMAN') {
          conflicts.push({
            line: r.line,
            contentHash: pairs[r.line - 1]!.contentHash,
            reason:
              'a person labeled this image otherwise; their label stands (relabel it explicitly)',
          });
          continue;
        }
        await labels.append({
          projectId,
          itemId: r.item_id!,
          labelClassId: r.class_id,
          source: 'IMPORT',
          annotatorId: actor.annotatorId,
          apiKeyId: actor.apiKeyId,
          reason: 'imported labels',
          supersedesId: r.current_id,
        });
        added++;
      }
      return { added, conflicts };
    });
  }

  /**
   * Per person: human labels and skips, labels per hour over the last 24 hours, gold answers
   * and how many were right, and agreement with other people on items both labeled.
   */
  async annotatorStats(projectId: string): Promise<AnnotatorStats[]> {
    const { rows } = await this.db.query<{
      user_id: string | null;
      labels: string;
      recent: string;
      skipped: string;
      gold_answered: string;
      gold_correct: string;
      compared: string;
      agreed: string;
    }>(
      `WITH latest AS (
         SELECT DISTINCT ON (item_id, annotator_id) item_id, annotator_id, label_class_id
           FROM labels
          WHERE project_id = $1 AND source = 'HUMAN' AND annotator_id IS NOT NULL
          ORDER BY item_id, annotator_id, created_at DESC, id DESC)
       SELECT user_id, sum(labels) AS labels, sum(recent) AS recent, sum(skipped) AS skipped,
              sum(gold_answered) AS gold_answered, sum(gold_correct) AS gold_correct,
              sum(compared) AS compared, sum(agreed) AS agreed FROM (
         SELECT annotator_id AS user_id, count(*) AS labels,
                count(*) FILTER (WHERE created_at > now() - interval '24 hours') AS recent,
                0 AS skipped, 0 AS gold_answered, 0 AS gold_correct, 0 AS compared, 0 AS agreed
           FROM labels WHERE project_id = $1 AND source = 'HUMAN' GROUP BY annotator_id
         UNION ALL
         SELECT assignee_id, 0, 0, count(*), 0, 0, 0, 0 FROM label_tasks
          WHERE project_id = $1 AND status = 'SKIPPED' GROUP BY assignee_id
         UNION ALL
         SELECT annotator_id, 0, 0, count(*) FILTER (WHERE status = 'SKIPPED'),
                count(*) FILTER (WHERE status = 'DONE'),
                count(*) FILTER (WHERE status = 'DONE' AND answer_class_id = expected_class_id),
                0, 0
           FROM gold_tasks WHERE project_id = $1 GROUP BY annotator_id
         UNION ALL
         SELECT a.annotator_id, 0, 0, 0, 0, 0, count(*),
                count(*) FILTER (WHERE a.label_class_id IS NOT DISTINCT FROM b.label_class_id)
           FROM latest a JOIN latest b ON b.item_id = a.item_id AND b.annotator_id <> a.annotator_id
          WHERE a.label_class_id IS NOT NULL AND b.label_class_id IS NOT NULL
          GROUP BY a.annotator_id) x
       GROUP BY user_id ORDER BY sum(labels) DESC, user_id`,
      [projectId],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      labels: Number(r.labels),
      skipped: Number(r.skipped),
      labelsPerHour: Number(r.recent) / 24,
      goldAnswered: Number(r.gold_answered),
      goldCorrect: Number(r.gold_correct),
      compared: Number(r.compared),
      agreed: Number(r.agreed),
    }));
  }

  /** A page of the project's current auto labels, least confident first, and how many there are. */
  async currentAuto(input: {
    projectId: string;
    first: number;
    offset: number;
  }): Promise<{ labels: Label[]; total: number }> {
    const { rows } = await this.db.query(
      `SELECT cl.*, count(*) OVER () AS total FROM current_labels cl
        WHERE cl.project_id = $1 AND cl.source = 'AUTO' AND cl.label_class_id IS NOT NULL
        ORDER BY cl.confidence NULLS FIRST, cl.id
        LIMIT $2 OFFSET $3`,
      [input.projectId, input.first, input.offset],
    );
    let total = rows.length ? Number((rows[0] as { total: string }).total) : 0;
    if (!rows.length && input.offset > 0) {
      const { rows: n } = await this.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM current_labels
          WHERE project_id = $1 AND source = 'AUTO' AND label_class_id IS NOT NULL`,
        [input.projectId],
      );
      total = n[0]!.n;
    }
    return { labels: rows.map(({ total: _, ...row }) => asModel<Label>(row)!), total };
  }

  /** Human labels per hour over the last 24 hours. */
  async humanLabelsPerHour(projectId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM labels
        WHERE project_id = $1 AND source = 'HUMAN' AND created_at > now() - interval '24 hours'`,
      [projectId],
    );
    return Number(rows[0]!.n) / 24;
  }

  /** Items labeled by two or more people, and how many of them all people agreed on. */
  async agreement(projectId: string): Promise<{ items: number; agreeing: number }> {
    const { rows } = await this.db.query<{ items: string; agreeing: string }>(
      `SELECT count(*) AS items, count(*) FILTER (WHERE classes = 1) AS agreeing FROM (
         SELECT item_id, count(DISTINCT label_class_id) AS classes,
                count(DISTINCT annotator_id) AS people
           FROM labels
          WHERE project_id = $1 AND source = 'HUMAN' AND label_class_id IS NOT NULL
            AND annotator_id IS NOT NULL
          GROUP BY item_id) x
        WHERE people >= 2`,
      [projectId],
    );
    return { items: Number(rows[0]!.items), agreeing: Number(rows[0]!.agreeing) };
  }

  /**
   * A check of a project's human labels: how many labels each task has (exactly one, or the
   * label store doubled an answer), and how many items got more than one task label in the
   * same round.
   */
  async audit(projectId: string): Promise<{ byTask: Map<string, number>; itemsDoubled: number }> {
    const [byTask, doubled] = await Promise.all([
      this.db.query<{ task_id: string; n: number }>(
        `SELECT task_id, count(*)::int AS n FROM labels
          WHERE project_id = $1 AND source = 'HUMAN' AND task_id IS NOT NULL GROUP BY task_id`,
        [projectId],
      ),
      this.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (
           SELECT l.item_id FROM labels l JOIN label_tasks t ON t.id = l.task_id
            WHERE l.project_id = $1 AND l.source = 'HUMAN'
            GROUP BY l.item_id, t.round_id HAVING count(*) > 1) x`,
        [projectId],
      ),
    ]);
    return {
      byTask: new Map(byTask.rows.map((r) => [r.task_id, r.n])),
      itemsDoubled: doubled.rows[0]!.n,
    };
  }

  /**
   * A number that moves whenever a label of the project is added (0 before the first): a
   * cheap check whether labeled references held in memory are still current.
   */
  async version(projectId: string): Promise<number> {
    const { rows } = await this.db.query<{ version: string }>(
      'SELECT version FROM label_versions WHERE project_id = $1',
      [projectId],
    );
    return Number(rows[0]?.version ?? 0);
  }

  /** Current labels of a project's items (item id to class id). */
  async currentOfProject(projectId: string): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ item_id: string; label_class_id: string }>(
      `SELECT item_id, label_class_id FROM current_labels
        WHERE project_id = $1 AND label_class_id IS NOT NULL`,
      [projectId],
    );
    return new Map(rows.map((r) => [r.item_id, r.label_class_id]));
  }
}
