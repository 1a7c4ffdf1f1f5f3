import { AppError, isUuid } from '@beanstalk/shared';
import { decodeVector } from '../binary.ts';
import type { Label, LabelTask, SelectionStrategy } from '../generated/prisma/client.ts';
import { asModel, transaction, type Queryable } from '../queryable.ts';
import { refuseUnanswerable } from './answer-checks.ts';
import { BudgetRepository } from './budget.ts';
import { GoldRepository } from './gold.ts';
import { labelConflict } from './labels.ts';

/** Unexpired claims one person may hold in a project at once. */
export const MAX_OPEN_CLAIMS = 25;

export interface TaskCounts {
  open: number;
  claimed: number;
  done: number;
  expired: number;
  skipped: number;
}

export interface TaskSubmission {
  taskId: string;
  labelClassId: string;
  annotatorId?: string | null;
  /**
   * More items the annotator gives the same class (similar images next to the task): labeled
   * in the same round, paid from the budget, all or none.
   */
  alsoItemIds?: string[];
  /**
   * Called with the task's project before anything is written; throws to refuse (the API's
   * access check, made on the row the submission locks).
   */
  authorize?: (projectId: string) => void;
}

export interface SubmittedLabel {
  label: Label;
  task: LabelTask;
  /** The same answer had been stored already; nothing was written. */
  duplicate: boolean;
  /** Labels written for `alsoItemIds`. */
  also: Label[];
  /** Extra items left alone, and why (labeled meanwhile, asked in a task, not in the project). */
  alsoSkipped: { itemId: string; reason: string }[];
  /** The round's workflow, to wake after the commit. */
  workflowId: string | null;
}

/** An unlabeled pool item a selection strategy may choose, with its prediction and vector. */
export interface SelectionCandidate {
  itemId: string;
  confidence: number;
  margin: number;
  entropy: number;
  embedding: Float32Array;
}

/** Priority of a second-opinion task: above every selection score (0..1), so it comes first. */
const SECOND_OPINION_PRIORITY = 2;

/** The most extra items one submission may carry. */
export const MAX_ALSO_ITEMS = 50;

/** Label tasks: a leased question to a person about one item, with its budget reserved. */
export class TaskRepository {
  constructor(private readonly db: Queryable) {}

  /** A label task, or a gold question as its person sees it. */
  async byId(id: string): Promise<LabelTask | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query('SELECT * FROM label_tasks WHERE id = $1', [id]);
    return asModel<LabelTask>(rows[0]) ?? new GoldRepository(this.db).byId(id);
  }

  /**
   * Gives an annotator the highest-priority open task of a project's live rounds, leased for
   * `leaseSeconds`; concurrent annotators never get the same task (SKIP LOCKED). Tasks of a
   * round that has ended (or was left behind by its workflow and reaped) are never handed out.
   * A person holds at most MAX_OPEN_CLAIMS unexpired claims per project (a claim withholds its
   * item from everyone else); their claims are counted under a lock of their own. At the
   * project's gold rate the claim is a gold question instead (gold.ts), looking the same.
   * A second-opinion task never goes to the people whose labels it asks about.
   */
  async claimNext(input: {
    projectId: string;
    annotatorId: string | null;
    leaseSeconds: number;
  }): Promise<LabelTask | null> {
    return transaction(this.db, async (client) => {
      if (input.annotatorId) {
        const { rows: held } = await client.query<{ n: number }>(
          `SELECT pg_advisory_xact_lock(
                    hashtextextended('claims:' || $1::uuid::text || ':' || $2::uuid::text, 0)),
                  (SELECT count(*)::int FROM label_tasks
                    WHERE project_id = $1::uuid AND assignee_id = $2::uuid AND status = 'CLAIMED'
                      AND lease_expires_at > now())
                + (SELECT count(*)::int FROM gold_tasks
                    WHERE project_id = $1::uuid AND annotator_id = $2::uuid AND status = 'CLAIMED'
                      AND lease_expires_at > now()) AS n`,
          [input.projectId, input.annotatorId],
        );
        if (held[0]!.n >= MAX_OPEN_CLAIMS) {
          throw new AppError(
            'CONFLICT',
            `you hold ${held[0]!.n} open tasks in this project (at most ${MAX_OPEN_CLAIMS}); answer or skip one first`,
          );
        }
        const gold = await new GoldRepository(client).claim({
          projectId: input.projectId,
          annotatorId: input.annotatorId,
          leaseSeconds: input.leaseSeconds,
        });
        if (gold) return gold;
      }
      const { rows } = await client.query(
        `UPDATE label_tasks t
            SET status = 'CLAIMED', assignee_id = $2, claimed_at = now(),
                lease_expires_at = now() + make_interval(secs => $3)
          WHERE t.id = (SELECT o.id FROM label_tasks o JOIN rounds r ON r.id = o.round_id
                         WHERE o.project_id = $1 AND o.status = 'OPEN'
                           AND r.status IN ('SELECTING', 'LABELING')
                           AND NOT ($2::uuid = ANY(o.exclude_annotator_ids))
                         ORDER BY o.priority DESC, o.created_at, o.id
                         LIMIT 1 FOR UPDATE OF o SKIP LOCKED)
          RETURNING t.*`,
        [input.projectId, input.annotatorId, input.leaseSeconds],
      );
      return asModel<LabelTask>(rows[0]);
    });
  }

  /**
   * Records a human answer to a task in one transaction: the label (source HUMAN, tied to the
   * task), the task marked done, and labels for the extra items, whose budget is taken under
   * the budget lock (refused as a whole with BUDGET_EXHAUSTED when it does not cover them).
   * Sending the same answer again returns the stored label; a different answer to a done
   * task, an expired lease, someone else's claim, a skipped task, or a retired or foreign class
   * is refused with a reason.
   */
  submit(submission: TaskSubmission): Promise<SubmittedLabel> {
    const also = [...new Set(submission.alsoItemIds ?? [])];
    if (also.length > MAX_ALSO_ITEMS) {
      throw new AppError('BAD_USER_INPUT', `at most ${MAX_ALSO_ITEMS} extra items per label`);
    }
    if (!isUuid(submission.taskId)) {
      throw new AppError('NOT_FOUND', `task ${submission.taskId} does not exist`);
    }
    const annotatorId = submission.annotatorId ?? null;
    return transaction(this.db, async (client) => {
      // The task (locked), its round's workflow and the class, in one round trip.
      const { rows } = await client.query<
        Record<string, unknown> & {
          lease_over: boolean;
          workflow_id: string | null;
          class_name: string | null;
          class_retired: boolean | null;
        }
      >(
        `SELECT t.*, t.status = 'CLAIMED' AND t.lease_expires_at < now() AS lease_over,
                r.workflow_id, c.name AS class_name, c.retired_at IS NOT NULL AS class_retired
           FROM label_tasks t
           JOIN rounds r ON r.id = t.round_id
           LEFT JOIN label_classes c ON c.project_id = t.project_id AND c.id = $2
          WHERE t.id = $1
          FOR UPDATE OF t`,
        [submission.taskId, isUuid(submission.labelClassId) ? submission.labelClassId : null],
      );
      const row = rows[0];
      if (!row) {
        const gold = await new GoldRepository(client).answer({ ...submission, annotatorId });
        if (!gold) throw new AppError('NOT_FOUND', `task ${submission.taskId} does not exist`);
        // Extra items given with a gold question are real labels, as with any task.
        const extras = await this.reserveExtras(client, gold.task, gold.duplicate ? [] : also);
        return {
          ...gold,
          also: await this.writeExtras(
            client,
            gold.task,
            extras.ok,
            submission.labelClassId,
            annotatorId,
          ),
          alsoSkipped: extras.skipped,
          workflowId: null,
        };
      }
      const { lease_over, workflow_id, class_name, class_retired, ...taskRow } = row;
      const task = asModel<LabelTask>(taskRow)!;
      submission.authorize?.(task.projectId);
      if (task.status === 'DONE') {
        const stored = await client.query('SELECT * FROM labels WHERE task_id = $1', [task.id]);
        const label = asModel<Label>(stored.rows[0]);
        if (
          label &&
          label.labelClassId === submission.labelClassId &&
          label.annotatorId === annotatorId
        ) {
          return {
            label,
            task,
            duplicate: true,
            also: [],
            alsoSkipped: [],
            workflowId: workflow_id,
          };
        }
        throw new AppError('CONFLICT', `task ${task.id} already has a label`);
      }
      refuseUnanswerable({
        taskId: task.id,
        status: task.status,
        leaseOver: lease_over,
        assigneeId: task.assigneeId,
        annotatorId,
        labelClassId: submission.labelClassId,
        cls: class_name ? { name: class_name, retired: !!class_retired } : null,
      });

      const extras = await this.reserveExtras(client, task, also);

      let label: Label;
      try {
        const written = await client.query(
          `WITH done AS (
             UPDATE label_tasks SET status = 'DONE', completed_at = now() WHERE id = $1
             RETURNING *)
           INSERT INTO labels (project_id, item_id, label_class_id, source, annotator_id,
                               round_id, task_id, supersedes_id)
           SELECT d.project_id, d.item_id, $2, 'HUMAN', $3, d.round_id, d.id,
                  (SELECT id FROM current_labels WHERE item_id = d.item_id)
             FROM done d
           RETURNING *`,
          [task.id, submission.labelClassId, annotatorId],
        );
        label = asModel<Label>(written.rows[0])!;
      } catch (error) {
        throw labelConflict(error, { taskId: task.id, itemId: task.itemId });
      }
      // Both timestamps are the transaction's now().
      const done: LabelTask = { ...task, status: 'DONE', completedAt: label.createdAt };
      return {
        label,
        task: done,
        duplicate: false,
        also: await this.writeExtras(client, task, extras.ok, submission.labelClassId, annotatorId),
        alsoSkipped: extras.skipped,
        workflowId: workflow_id,
      };
    });
  }

  /**
   * The extra items of an answer that may be labeled, with their budget checked under the
   * budget lock (BUDGET_EXHAUSTED for the whole answer when it does not cover them); the
   * task's own label was reserved when the task opened.
   */
  private async reserveExtras(
    client: Queryable,
    task: LabelTask,
    also: string[],
  ): Promise<{ ok: string[]; skipped: { itemId: string; reason: string }[] }> {
    if (also.length === 0) return { ok: [], skipped: [] };
    const budget = new BudgetRepository(client);
    await budget.lock(task.projectId);
    const eligible = await this.eligibleExtras(client, task, also);
    const left = (await budget.of(task.projectId)).remaining;
    if (eligible.ok.length > left) {
      throw new AppError(
        'BUDGET_EXHAUSTED',
        `labeling ${eligible.ok.length} more items needs ${eligible.ok.length} labels of budget; ${left} left`,
        { remaining: left, needed: eligible.ok.length },
      );
    }
    return eligible;
  }

  /** Human labels for an answer's extra items, in the task's round. */
  private async writeExtras(
    client: Queryable,
    task: LabelTask,
    itemIds: string[],
    labelClassId: string,
    annotatorId: string | null,
  ): Promise<Label[]> {
    if (itemIds.length === 0) return [];
    const { rows } = await client.query(
      `INSERT INTO labels (project_id, item_id, label_class_id, source, annotator_id,
                           round_id, reason, supersedes_id)
       SELECT i.project_id, i.id, $2, 'HUMAN', $3, $4, $5,
              (SELECT id FROM current_labels WHERE item_id = i.id)
         FROM items i WHERE i.id = ANY($1::uuid[])
       RETURNING *`,
      [itemIds, labelClassId, annotatorId, task.roundId, `labeled with task ${task.id}`],
    );
    return rows.map((r) => asModel<Label>(r)!);
  }

  /** Which extra items may be labeled with a task: the project's, unlabeled, not asked. */
  private async eligibleExtras(
    client: Queryable,
    task: LabelTask,
    itemIds: string[],
  ): Promise<{ ok: string[]; skipped: { itemId: string; reason: string }[] }> {
    const valid = itemIds.filter((id) => isUuid(id) && id !== task.itemId);
    const { rows } = await client.query<{ id: string; labeled: boolean; asked: boolean }>(
      `SELECT i.id,
              EXISTS (SELECT 1 FROM current_labels cl
                       WHERE cl.item_id = i.id AND cl.label_class_id IS NOT NULL) AS labeled,
              EXISTS (SELECT 1 FROM label_tasks t
                       WHERE t.item_id = i.id AND t.status IN ('OPEN', 'CLAIMED')) AS asked
         FROM items i WHERE i.id = ANY($1::uuid[]) AND i.project_id = $2
         FOR UPDATE OF i`,
      [valid, task.projectId],
    );
    const found = new Map(rows.map((r) => [r.id, r]));
    const ok: string[] = [];
    const skipped: { itemId: string; reason: string }[] = [];
    for (const itemId of itemIds) {
      const r = found.get(itemId);
      if (itemId === task.itemId) skipped.push({ itemId, reason: 'the task’s own item' });
      else if (!r) skipped.push({ itemId, reason: 'not an item of this project' });
      else if (r.labeled) skipped.push({ itemId, reason: 'already labeled' });
      else if (r.asked) skipped.push({ itemId, reason: 'asked in another task' });
      else ok.push(itemId);
    }
    return { ok, skipped };
  }

  /**
   * Gives a claimed or open task back unanswered: it is marked SKIPPED, so its budget
   * reservation is released and its item can be selected again in a later round. Returns the
   * task and its round's workflow (to wake).
   */
  async skip(input: {
    taskId: string;
    annotatorId: string | null;
  }): Promise<{ task: LabelTask; workflowId: string | null }> {
    if (!isUuid(input.taskId))
      throw new AppError('NOT_FOUND', `task ${input.taskId} does not exist`);
    const { rows } = await this.db.query(
      `UPDATE label_tasks t SET status = 'SKIPPED', completed_at = now()
         FROM rounds r
        WHERE t.id = $1 AND r.id = t.round_id AND t.status IN ('OPEN', 'CLAIMED')
          AND (t.assignee_id IS NULL OR t.assignee_id IS NOT DISTINCT FROM $2::uuid)
        RETURNING t.*, r.workflow_id`,
      [input.taskId, input.annotatorId],
    );
    if (rows[0]) {
      const { workflow_id, ...task } = rows[0] as Record<string, unknown>;
      return { task: asModel<LabelTask>(task)!, workflowId: (workflow_id as string) ?? null };
    }
    const gold = await new GoldRepository(this.db).skip(input);
    if (gold) return { task: gold, workflowId: null };
    const found = await this.byId(input.taskId);
    if (!found) throw new AppError('NOT_FOUND', `task ${input.taskId} does not exist`);
    throw new AppError(
      'CONFLICT',
      found.status === 'CLAIMED'
        ? `task ${input.taskId} is claimed by someone else`
        : `task ${input.taskId} is already ${found.status.toLowerCase()}`,
    );
  }

  /**
   * Expires claimed tasks whose lease ran out (and, with `allOpen`, every unfinished task of
   * the round): the item goes back to the pool and its budget reservation is released.
   */
  async expire(roundId: string, options: { allOpen?: boolean } = {}): Promise<number> {
    const result = await this.db.query(
      `UPDATE label_tasks SET status = 'EXPIRED'
        WHERE round_id = $1
          AND (status = 'CLAIMED' AND lease_expires_at < now()
               OR $2 AND status IN ('OPEN', 'CLAIMED'))`,
      [roundId, options.allOpen ?? false],
    );
    return result.rowCount ?? 0;
  }

  async counts(roundId: string): Promise<TaskCounts> {
    const { rows } = await this.db.query<{ status: string; n: string }>(
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

  /**
   * Opens a round's tasks, at most `count` and never more than the budget left, under the
   * budget lock. `choose` picks among the `candidatesPerTask` x tasks least certain scored pool
   * items (by margin); what it leaves unfilled (and everything at a cold start, with no head)
   * is a pseudo-random sample keyed by image content and round number. The first chosen is
   * asked first. A retry returns what the round already opened.
   */
  /** Eval items labeled by people or imports, plus those asked for in open tasks. */
  async evalCovered(projectId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM current_labels cl JOIN items i ON i.id = cl.item_id
                WHERE cl.project_id = $1 AND i.split = 'EVAL'
                  AND cl.label_class_id IS NOT NULL AND cl.source <> 'AUTO')
            + (SELECT count(*) FROM label_tasks t JOIN items i ON i.id = t.item_id
                WHERE t.project_id = $1 AND i.split = 'EVAL'
                  AND t.status IN ('OPEN', 'CLAIMED')) AS n`,
      [projectId],
    );
    return Number(rows[0]!.n);
  }

  openForRound(input: {
    roundId: string;
    headVersionId: string | null;
    count: number;
    candidatesPerTask?: number;
    /** Varies the random draws (keyed by content hash, round number and seed). */
    seed?: number;
    /** Pool items in the order to ask them (a strategy that ranks the whole pool). */
    ranked?: string[];
    choose?: (candidates: SelectionCandidate[], take: number) => string[];
    /**
     * The strategy that gave `ranked` or `choose`, recorded as the round's selection when one of
     * them is used (RANDOM when the round takes a random sample instead).
     */
    strategy?: SelectionStrategy;
    /**
     * How many of the round's tasks go to a random sample of unlabeled eval items, given how
     * many the round may open and how many eval items are labeled or asked for already.
     */
    evalSample?: (take: number, have: number) => number;
  }): Promise<{ asked: number; evalAsked: number; budgetLeft: number }> {
    return transaction(this.db, async (client) => {
      const { rows: roundRows } = await client.query<{
        project_id: string;
        number: number;
        skip_near_duplicates: boolean;
        second_opinions: boolean;
      }>(
        `SELECT r.project_id, r.number, p.skip_near_duplicates, p.second_opinions
           FROM rounds r JOIN projects p ON p.id = r.project_id WHERE r.id = $1`,
        [input.roundId],
      );
      const round = roundRows[0];
      if (!round) throw new AppError('NOT_FOUND', `round ${input.roundId} does not exist`);
      const budget = new BudgetRepository(client);
      await budget.lock(round.project_id);
      const existing = await client.query('SELECT 1 FROM label_tasks WHERE round_id = $1', [
        input.roundId,
      ]);
      if (existing.rowCount) {
        const { rows } = await client.query<{ eval_asked: number }>(
          'SELECT eval_asked FROM rounds WHERE id = $1',
          [input.roundId],
        );
        return {
          asked: existing.rowCount,
          evalAsked: rows[0]!.eval_asked,
          budgetLeft: (await budget.of(round.project_id)).remaining,
        };
      }
      const left = (await budget.of(round.project_id)).remaining;
      let take = Math.min(input.count, left);
      const drawKey = input.seed ? `${input.seed}/${round.number}` : String(round.number);
      const free = `NOT EXISTS (SELECT 1 FROM current_labels cl
                                 WHERE cl.item_id = i.id AND cl.label_class_id IS NOT NULL)
                    AND NOT EXISTS (SELECT 1 FROM label_tasks t WHERE t.item_id = i.id
                                     AND t.status IN ('OPEN', 'CLAIMED', 'DONE'))
                    ${round.skip_near_duplicates ? 'AND i.near_duplicate_of IS NULL' : ''}`;
      const secondOpinions =
        take > 0 && round.second_opinions
          ? await this.openSecondOpinions(client, round.project_id, input.roundId, take)
          : 0;
      take -= secondOpinions;
      let evalChosen: string[] = [];
      if (take > 0 && input.evalSample) {
        const have = await new TaskRepository(client).evalCovered(round.project_id);
        const wanted = input.evalSample(take, have);
        if (wanted > 0) {
          // Random, keyed by content and round (not by the model): an unbiased sample.
          const { rows } = await client.query<{ id: string }>(
            `SELECT i.id FROM items i
              WHERE i.project_id = $1 AND i.split = 'EVAL' AND ${free}
              ORDER BY md5(i.content_hash || 'eval' || $2), i.id LIMIT $3`,
            [round.project_id, drawKey, wanted],
          );
          evalChosen = rows.map((r) => r.id);
          take -= evalChosen.length;
        }
      }
      let chosen: string[] = [];
      if (take > 0 && input.ranked) {
        // Ranked before the lock was taken: only those still free count.
        const { rows } = await client.query<{ id: string }>(
          `SELECT i.id FROM unnest($2::uuid[]) WITH ORDINALITY AS x(id, ord)
             JOIN items i ON i.id = x.id
            WHERE i.project_id = $1 AND i.split = 'POOL' AND ${free}
            ORDER BY x.ord LIMIT $3`,
          [round.project_id, input.ranked, take],
        );
        chosen = rows.map((r) => r.id);
      } else if (take > 0 && input.headVersionId && input.choose) {
        const { rows } = await client.query<{
          item_id: string;
          confidence: number;
          margin: number;
          entropy: number;
          embedding: Buffer;
        }>(
          `SELECT p.item_id, p.confidence, p.margin, p.entropy,
                  vector_send(v.embedding) AS embedding
             FROM predictions p
             JOIN items i ON i.id = p.item_id AND i.split = 'POOL'
             JOIN item_vectors v ON v.head_version_id = p.head_version_id
                                 AND v.item_id = p.item_id
            WHERE p.head_version_id = $1 AND ${free}
            ORDER BY p.margin, i.content_hash, p.item_id LIMIT $2`,
          [input.headVersionId, take * (input.candidatesPerTask ?? 10)],
        );
        chosen = input
          .choose(
            rows.map((r) => ({
              itemId: r.item_id,
              confidence: r.confidence,
              margin: r.margin,
              entropy: r.entropy,
              embedding: decodeVector(r.embedding),
            })),
            take,
          )
          .slice(0, take);
      }
      if (chosen.length < take) {
        const random = await client.query<{ id: string }>(
          `SELECT i.id FROM items i
            WHERE i.project_id = $1 AND i.split = 'POOL' AND ${free}
              AND i.id <> ALL($3::uuid[])
            ORDER BY md5(i.content_hash || $2), i.id LIMIT $4`,
          [round.project_id, drawKey, chosen, take - chosen.length],
        );
        chosen.push(...random.rows.map((r) => r.id));
      }
      // Eval items are spread evenly through the queue (priority falls from 1 to 0 in each
      // list), so a round cut short by its deadline still has both kinds of labels.
      const ids = [...chosen, ...evalChosen];
      const priorities = [
        ...chosen.map((_, i) => 1 - (i + 0.5) / chosen.length),
        ...evalChosen.map((_, i) => 1 - (i + 0.5) / evalChosen.length),
      ];
      await client.query(
        `INSERT INTO label_tasks (project_id, round_id, item_id, priority)
         SELECT $1, $2, x.item_id, x.priority
           FROM unnest($3::uuid[], $4::float8[]) AS x(item_id, priority)
         ON CONFLICT (round_id, item_id) DO NOTHING`,
        [round.project_id, input.roundId, ids, priorities],
      );
      const asked = ids.length + secondOpinions;
      const selection =
        input.ranked || (input.headVersionId && input.choose) ? input.strategy : 'RANDOM';
      await client.query(
        'UPDATE rounds SET budget_asked = $2, eval_asked = $3, selection = $4 WHERE id = $1',
        [input.roundId, asked, evalChosen.length, selection ?? null],
      );
      return { asked, evalAsked: evalChosen.length, budgetLeft: left - asked };
    });
  }

  /**
   * The round's second opinions, when the project asks for them: a task for each image with an
   * open disagreement between people (oldest first, at most `take`), first in the queue and
   * never for the people who labeled it; their issues are marked SENT. Inside openForRound's
   * transaction, under the budget lock.
   */
  private async openSecondOpinions(
    client: Queryable,
    projectId: string,
    roundId: string,
    take: number,
  ): Promise<number> {
    const { rows: due } = await client.query<{ item_id: string }>(
      `SELECT li.item_id FROM label_issues li
        WHERE li.project_id = $1 AND li.kind = 'DISAGREEMENT' AND li.status = 'OPEN'
          AND NOT EXISTS (SELECT 1 FROM label_tasks t WHERE t.item_id = li.item_id
                           AND t.status IN ('OPEN', 'CLAIMED'))
        ORDER BY li.created_at, li.id LIMIT $2`,
      [projectId, take],
    );
    const opened = await new TaskRepository(client).openSecondOpinionTasks({
      projectId,
      roundId,
      itemIds: due.map((r) => r.item_id),
    });
    await client.query(
      `UPDATE label_issues SET status = 'SENT', reviewed_at = now(),
              reason = 'a second opinion, as the project asks for disagreements'
        WHERE project_id = $1 AND kind = 'DISAGREEMENT' AND status = 'OPEN'
          AND item_id = ANY($2::uuid[])`,
      [projectId, opened],
    );
    return opened.length;
  }

  /**
   * Second-opinion tasks for these images in a round: first in the queue, never claimable by
   * the people who labeled the image. An image the round asks about already is left out.
   * Returns the images given a task. The caller holds the budget lock and has checked it.
   */
  async openSecondOpinionTasks(input: {
    projectId: string;
    roundId: string;
    itemIds: string[];
  }): Promise<string[]> {
    if (input.itemIds.length === 0) return [];
    const { rows } = await this.db.query<{ item_id: string }>(
      `INSERT INTO label_tasks (project_id, round_id, item_id, priority, exclude_annotator_ids)
       SELECT $1, $2, x.item_id, $4,
              (SELECT coalesce(array_agg(DISTINCT l.annotator_id)
                                 FILTER (WHERE l.annotator_id IS NOT NULL), '{}')
                 FROM labels l WHERE l.item_id = x.item_id AND l.source = 'HUMAN')
         FROM unnest($3::uuid[]) AS x(item_id)
       ON CONFLICT (round_id, item_id) DO NOTHING
       RETURNING item_id`,
      [input.projectId, input.roundId, input.itemIds, SECOND_OPINION_PRIORITY],
    );
    return rows.map((r) => r.item_id);
  }
}
