import { AppError } from '@beanstalk/shared';
import type { Queryable } from '../queryable.ts';
import { transaction } from '../queryable.ts';

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

/** The budget ledger of projects and the lock every spending decision takes. */
export class BudgetRepository {
  constructor(private readonly db: Queryable) {}

  async of(projectId: string): Promise<Budget> {
    const { rows } = await this.db.query<{ total: string; spent: string; reserved: string }>(
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

  /**
   * Serialises the budget decisions of one project (task creation, extra labels, relabels,
   * taking budget away) across processes, until the caller's transaction ends.
   */
  async lock(projectId: string): Promise<void> {
    await this.db.query(`SELECT pg_advisory_xact_lock(hashtext('budget:' || $1))`, [projectId]);
  }

  /**
   * Takes `labels` human labels from the budget under its lock, or refuses with
   * BUDGET_EXHAUSTED; call inside the transaction that then writes them.
   */
  async reserve(projectId: string, labels: number, what: string): Promise<Budget> {
    await this.lock(projectId);
    const budget = await this.of(projectId);
    if (budget.remaining < labels) {
      throw new AppError(
        'BUDGET_EXHAUSTED',
        `${what} needs ${labels} label${labels === 1 ? '' : 's'} of budget; ${budget.remaining} left`,
        { remaining: budget.remaining, needed: labels },
      );
    }
    return budget;
  }

  /** Whether a project has any ledger entry (setup scripts add a budget only once). */
  async hasEntries(projectId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'SELECT 1 FROM budget_events WHERE project_id = $1 LIMIT 1',
      [projectId],
    );
    return rows.length > 0;
  }

  /**
   * Adds to (or, negative, takes from) a project's budget as a ledger entry; what is spent
   * or reserved cannot be taken away.
   */
  add(input: {
    projectId: string;
    amount: number;
    reason: string;
    userId?: string | null;
  }): Promise<Budget> {
    if (!Number.isInteger(input.amount) || input.amount === 0 || Math.abs(input.amount) > 1e6) {
      throw new AppError('BAD_USER_INPUT', 'amount must be a non-zero whole number of labels');
    }
    return transaction(this.db, async (client) => {
      const tx = new BudgetRepository(client);
      await tx.lock(input.projectId);
      const budget = await tx.of(input.projectId);
      if (budget.total + input.amount < budget.spent + budget.reserved) {
        throw new AppError(
          'BUDGET_EXHAUSTED',
          `cannot take ${-input.amount} labels away: only ${budget.remaining} are unspent and unreserved`,
        );
      }
      await client.query(
        `INSERT INTO budget_events (project_id, amount, reason, user_id) VALUES ($1, $2, $3, $4)`,
        [input.projectId, input.amount, input.reason, input.userId ?? null],
      );
      return tx.of(input.projectId);
    });
  }
}
