import { AppError, isUuid } from '@beanstalk/shared';
import type { Label, LabelIssue, LabelIssueStatus } from '../generated/prisma/client.ts';
import { asModel, transaction, type Queryable } from '../queryable.ts';
import { BudgetRepository } from './budget.ts';
import { checkUsableClass, LabelRepository } from './labels.ts';
import { TaskRepository } from './tasks.ts';

/** A label a check found suspect, with the class its neighbours give it. */
export interface FoundIssue {
  labelId: string;
  itemId: string;
  suggestedClassId: string;
  score: number;
  selfConfidence: number;
}

export interface IssueCheckResult {
  /** Issues opened or reopened by this check. */
  opened: number;
  /** Open issues this check no longer flags (or whose label was replaced meanwhile). */
  cleared: number;
  /** Open issues of the project after the check. */
  open: number;
  /**
   * Open issues this round's check flagged, new or found again (their round is the check's):
   * the same when the check runs again, as a retried activity does; 0 without a round.
   */
  flagged: number;
}

/** KEEP the label, RELABEL it, or SEND the image to another annotator for a second opinion. */
export type ReviewDecision = 'KEEP' | 'RELABEL' | 'SEND';

/**
 * Label issues (labels their neighbours disagree with) and their review. An issue is keyed by
 * the label it doubts: a label a reviewer kept is never flagged again, a replaced label's issue
 * closes, and the replacement is checked afresh after the next round.
 */
export class LabelIssueRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Stores one check's findings for a project: new issues open, cleared ones flagged again
   * reopen, kept and relabeled ones stay closed; open issues of labels that were checked and
   * not flagged, or that are no longer current, are cleared. One transaction.
   */
  record(input: {
    projectId: string;
    roundId: string | null;
    found: FoundIssue[];
    checkedLabelIds: string[];
  }): Promise<IssueCheckResult> {
    return transaction(this.db, async (client) => {
      const { found } = input;
      const before = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM label_issues WHERE label_id = ANY($1::uuid[]) AND status = 'OPEN'`,
        [found.map((f) => f.labelId)],
      );
      const upserted = await client.query(
        `INSERT INTO label_issues AS li
                (project_id, round_id, label_id, item_id, suggested_class_id, score, self_confidence)
         SELECT $1, $2, f.label_id, f.item_id, f.suggested_class_id, f.score, f.self_confidence
           FROM unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::float8[], $7::float8[])
                AS f(label_id, item_id, suggested_class_id, score, self_confidence)
         ON CONFLICT (label_id) DO UPDATE
            SET round_id = EXCLUDED.round_id, suggested_class_id = EXCLUDED.suggested_class_id,
                score = EXCLUDED.score, self_confidence = EXCLUDED.self_confidence,
                status = 'OPEN'
          WHERE li.status IN ('OPEN', 'CLEARED') AND li.kind = 'NEIGHBOURS'`,
        [
          input.projectId,
          input.roundId,
          found.map((f) => f.labelId),
          found.map((f) => f.itemId),
          found.map((f) => f.suggestedClassId),
          found.map((f) => f.score),
          found.map((f) => f.selfConfidence),
        ],
      );
      const cleared = await client.query(
        `UPDATE label_issues li SET status = 'CLEARED'
          WHERE li.project_id = $1 AND li.status = 'OPEN' AND NOT (li.label_id = ANY($2::uuid[]))
            AND (li.kind = 'NEIGHBOURS' AND li.label_id = ANY($3::uuid[])
                 OR EXISTS (SELECT 1 FROM labels n WHERE n.supersedes_id = li.label_id))`,
        [input.projectId, found.map((f) => f.labelId), input.checkedLabelIds],
      );
      const { rows } = await client.query<{ n: number; flagged: number }>(
        `SELECT count(*)::int AS n, (count(*) FILTER (WHERE round_id = $2))::int AS flagged
           FROM label_issues WHERE project_id = $1 AND status = 'OPEN'`,
        [input.projectId, input.roundId],
      );
      return {
        opened: (upserted.rowCount ?? 0) - before.rows[0]!.n,
        cleared: cleared.rowCount ?? 0,
        open: rows[0]!.n,
        flagged: rows[0]!.flagged,
      };
    });
  }

  /**
   * Opens an issue for each current human label that another person's latest label of the same
   * image contradicts (suggesting that person's class, score 1: people disagreeing come first).
   * A reviewer's own label is not one: it settled a disagreement. A label flagged by its
   * neighbours becomes a disagreement; one already reviewed stays closed. Returns how many
   * opened.
   */
  async recordDisagreements(projectId: string, roundId: string | null): Promise<number> {
    const result = await this.db.query(
      `WITH latest AS (
         SELECT DISTINCT ON (item_id, annotator_id) item_id, annotator_id, label_class_id,
                created_at
           FROM labels
          WHERE project_id = $1 AND source = 'HUMAN' AND annotator_id IS NOT NULL
          ORDER BY item_id, annotator_id, created_at DESC, id DESC)
       INSERT INTO label_issues AS li (project_id, round_id, label_id, item_id,
                                       suggested_class_id, score, self_confidence, kind)
       SELECT DISTINCT ON (cl.id) $1, $2, cl.id, cl.item_id, o.label_class_id, 1, 0,
              'DISAGREEMENT'::"LabelIssueKind"
         FROM current_labels cl
         JOIN latest o ON o.item_id = cl.item_id AND o.annotator_id IS DISTINCT FROM cl.annotator_id
        WHERE cl.project_id = $1 AND cl.source = 'HUMAN' AND cl.label_class_id IS NOT NULL
          AND o.label_class_id IS NOT NULL AND o.label_class_id <> cl.label_class_id
          AND NOT EXISTS (SELECT 1 FROM label_issues r WHERE r.review_label_id = cl.id)
        ORDER BY cl.id, o.created_at DESC
       ON CONFLICT (label_id) DO UPDATE
          SET kind = 'DISAGREEMENT', suggested_class_id = EXCLUDED.suggested_class_id,
              score = 1, self_confidence = 0, status = 'OPEN', round_id = EXCLUDED.round_id
        WHERE li.kind = 'NEIGHBOURS' AND li.status IN ('OPEN', 'CLEARED')`,
      [projectId, roundId],
    );
    return result.rowCount ?? 0;
  }

  async byId(id: string): Promise<LabelIssue | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query('SELECT * FROM label_issues WHERE id = $1', [id]);
    return asModel<LabelIssue>(rows[0]);
  }

  /** A project's issues of one status, most suspect first, and how many there are. */
  async list(input: {
    projectId: string;
    status: LabelIssueStatus;
    first: number;
    offset: number;
  }): Promise<{ issues: LabelIssue[]; total: number }> {
    const { rows } = await this.db.query(
      `SELECT li.*, count(*) OVER () AS total FROM label_issues li
        WHERE li.project_id = $1 AND li.status = $2
        ORDER BY li.score DESC, li.id
        LIMIT $3 OFFSET $4`,
      [input.projectId, input.status, input.first, input.offset],
    );
    const total =
      rows.length > 0
        ? Number((rows[0] as { total: string }).total)
        : input.offset > 0
          ? await this.count(input.projectId, input.status)
          : 0;
    return { issues: rows.map(({ total: _, ...row }) => asModel<LabelIssue>(row)!), total };
  }

  /** Issues of a project by status (every status present, zero when none). */
  async counts(projectId: string): Promise<Record<LabelIssueStatus, number>> {
    const { rows } = await this.db.query<{ status: LabelIssueStatus; n: number }>(
      `SELECT status, count(*)::int AS n FROM label_issues WHERE project_id = $1 GROUP BY status`,
      [projectId],
    );
    const counts: Record<LabelIssueStatus, number> = {
      OPEN: 0,
      KEPT: 0,
      RELABELED: 0,
      CLEARED: 0,
      SENT: 0,
    };
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  private async count(projectId: string, status: LabelIssueStatus): Promise<number> {
    return (await this.counts(projectId))[status];
  }

  /**
   * A reviewer's decision on an open issue: KEEP closes it; RELABEL replaces the doubted label
   * with the reviewer's (a human label, one label of budget) and closes it. Refused with
   * CONFLICT when the issue was decided already or its label was replaced since it was
   * flagged, so two reviewers never both win. `authorize` runs on the locked row, before any
   * write.
   */
  review(input: {
    issueId: string;
    decision: ReviewDecision;
    labelClassId?: string | null;
    reason?: string | null;
    reviewerId: string | null;
    apiKeyId?: string | null;
    authorize: (projectId: string) => void | Promise<void>;
  }): Promise<{ issue: LabelIssue; label: Label | null }> {
    if (!isUuid(input.issueId)) {
      throw new AppError('NOT_FOUND', `label issue ${input.issueId} not found`);
    }
    return transaction(this.db, async (client) => {
      const { rows } = await client.query(
        `SELECT li.*, NOT EXISTS (SELECT 1 FROM labels n WHERE n.supersedes_id = li.label_id)
                AS label_current
           FROM label_issues li WHERE li.id = $1 FOR UPDATE OF li`,
        [input.issueId],
      );
      if (!rows[0]) throw new AppError('NOT_FOUND', `label issue ${input.issueId} not found`);
      const { label_current: current, ...row } = rows[0] as { label_current: boolean };
      const issue = asModel<LabelIssue>(row)!;
      await input.authorize(issue.projectId);
      if (issue.status !== 'OPEN') {
        throw new AppError('CONFLICT', `this issue was closed already (${issue.status})`);
      }
      if (!current) {
        throw new AppError('CONFLICT', 'the label was replaced since it was flagged');
      }
      const reason = input.reason?.trim() || null;
      let label: Label | null = null;
      if (input.decision === 'RELABEL') {
        if (!input.labelClassId) {
          throw new AppError('BAD_USER_INPUT', 'a relabel needs the class to give (labelClassId)');
        }
        if (!reason) throw new AppError('BAD_USER_INPUT', 'say why the label changes (reason)');
        const labels = new LabelRepository(client);
        const doubted = (await labels.byId(issue.labelId))!;
        if (doubted.labelClassId === input.labelClassId) {
          throw new AppError('BAD_USER_INPUT', 'that is the label already given: keep it instead');
        }
        await checkUsableClass(client, issue.projectId, input.labelClassId);
        await new BudgetRepository(client).reserve(issue.projectId, 1, 'a reviewed relabel');
        const id = await labels.append({
          projectId: issue.projectId,
          itemId: issue.itemId,
          labelClassId: input.labelClassId,
          source: 'HUMAN',
          annotatorId: input.reviewerId,
          apiKeyId: input.apiKeyId,
          reason,
          supersedesId: issue.labelId,
        });
        label = await labels.byId(id);
      } else if (input.decision === 'SEND') {
        await this.askSecondOpinion(client, issue);
      }
      const updated = await client.query(
        `UPDATE label_issues
            SET status = $2, reviewed_by_id = $3, reviewed_at = now(), reason = $4,
                review_label_id = $5
          WHERE id = $1 RETURNING *`,
        [
          issue.id,
          { KEEP: 'KEPT', RELABEL: 'RELABELED', SEND: 'SENT' }[input.decision],
          input.reviewerId,
          reason,
          label?.id ?? null,
        ],
      );
      return { issue: asModel<LabelIssue>(updated.rows[0])!, label };
    });
  }

  /**
   * A task for the issue's image in the round now taking labels, first in the queue, that the
   * people who labeled the image cannot claim; paid from the budget like any task. CONFLICT
   * when no round is taking labels or the image was asked in it already.
   */
  private async askSecondOpinion(client: Queryable, issue: LabelIssue): Promise<void> {
    const { rows: rounds } = await client.query<{ id: string }>(
      `SELECT id FROM rounds WHERE project_id = $1 AND status = 'LABELING'
        ORDER BY number DESC LIMIT 1`,
      [issue.projectId],
    );
    if (!rounds[0]) {
      throw new AppError(
        'CONFLICT',
        'no round is taking labels: send it for a second opinion once one is',
      );
    }
    await new BudgetRepository(client).reserve(issue.projectId, 1, 'a second opinion');
    const opened = await new TaskRepository(client).openSecondOpinionTasks({
      projectId: issue.projectId,
      roundId: rounds[0].id,
      itemIds: [issue.itemId],
    });
    if (opened.length === 0) {
      throw new AppError(
        'CONFLICT',
        'this image was asked in the round taking labels already: send it in the next one',
      );
    }
    await client.query('UPDATE rounds SET budget_asked = budget_asked + 1 WHERE id = $1', [
      rounds[0].id,
    ]);
  }
}
