import type pg from 'pg';
import {
  createPool,
  createPrisma,
  type ConnectionLimits,
  type PrismaClient,
} from './connection.ts';
import { ChangeListener, LIVE_CHANGES, type ChangeHandlers, type LiveChange } from './changes.ts';
import { transaction, type Queryable } from './queryable.ts';
import { BudgetRepository } from './repositories/budget.ts';
import { LabelClassRepository } from './repositories/classes.ts';
import { EncoderRepository } from './repositories/encoders.ts';
import { FeatureRepository } from './repositories/features.ts';
import { HeadRepository } from './repositories/heads.ts';
import { ImportRunRepository } from './repositories/imports.ts';
import { ItemRepository } from './repositories/items.ts';
import { KnnRepository } from './repositories/knn.ts';
import { LabelIssueRepository } from './repositories/label-issues.ts';
import { LabelRepository } from './repositories/labels.ts';
import { MetricRepository } from './repositories/metrics.ts';
import { PredictionRepository } from './repositories/predictions.ts';
import { ProjectRepository } from './repositories/projects.ts';
import { RoundRepository } from './repositories/rounds.ts';
import { TaskRepository } from './repositories/tasks.ts';
import { UserRepository } from './repositories/users.ts';
import { VectorSetRepository } from './repositories/vector-sets.ts';
import { WebhookRepository } from './repositories/webhooks.ts';

/**
 * The platform's database: one repository per aggregate, all SQL and Prisma calls inside
 * them. Repositories of a Database made by `inTransaction` share that transaction's
 * connection. (Prisma calls never join such a transaction: the repositories that write in
 * one use pg.)
 */
export class Database {
  readonly projects: ProjectRepository;
  readonly classes: LabelClassRepository;
  readonly items: ItemRepository;
  readonly features: FeatureRepository;
  readonly labels: LabelRepository;
  readonly labelIssues: LabelIssueRepository;
  readonly tasks: TaskRepository;
  readonly budget: BudgetRepository;
  readonly rounds: RoundRepository;
  readonly predictions: PredictionRepository;
  readonly vectorSets: VectorSetRepository;
  readonly knn: KnnRepository;
  readonly encoders: EncoderRepository;
  readonly heads: HeadRepository;
  readonly metrics: MetricRepository;
  readonly users: UserRepository;
  readonly imports: ImportRunRepository;
  readonly webhooks: WebhookRepository;

  constructor(
    /** For tests and fixtures; application code goes through the repositories. */
    readonly pool: pg.Pool,
    readonly prisma: PrismaClient,
    private readonly connection: Queryable = pool,
  ) {
    const q = connection;
    this.projects = new ProjectRepository(q, prisma);
    this.classes = new LabelClassRepository(q, prisma);
    this.items = new ItemRepository(q, prisma);
    this.features = new FeatureRepository(q);
    this.labels = new LabelRepository(q);
    this.labelIssues = new LabelIssueRepository(q);
    this.tasks = new TaskRepository(q);
    this.budget = new BudgetRepository(q);
    this.rounds = new RoundRepository(q, prisma);
    this.predictions = new PredictionRepository(q);
    this.vectorSets = new VectorSetRepository(q);
    this.knn = new KnnRepository(q);
    this.encoders = new EncoderRepository(prisma);
    this.heads = new HeadRepository(q, prisma);
    this.metrics = new MetricRepository(prisma);
    this.users = new UserRepository(q, prisma);
    this.imports = new ImportRunRepository(prisma);
    this.webhooks = new WebhookRepository(q, prisma);
  }

  /** Runs `fn` with repositories that share one transaction; commits if it returns. */
  inTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    return transaction(this.connection, (client) =>
      fn(new Database(this.pool, this.prisma, client)),
    );
  }

  /**
   * Starts listening for live changes (rounds, campaigns, budgets) on a connection of its own;
   * close the listener to give the connection back.
   */
  async listenForChanges(handlers: ChangeHandlers): Promise<ChangeListener<LiveChange>> {
    const listener = new ChangeListener(this.pool, LIVE_CHANGES, handlers);
    await listener.start();
    return listener;
  }

  /** pgvector's version, or null when the extension is missing. */
  async vectorExtension(): Promise<string | null> {
    const { rows } = await this.connection.query<{ version: string }>(
      "SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'",
    );
    return rows[0]?.version ?? null;
  }

  /** Fresh planner statistics after a bulk load (fixtures, benchmarks). */
  async analyze(): Promise<void> {
    await this.connection.query('ANALYZE');
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect();
    await this.pool.end();
  }
}

/**
 * The one way processes connect: a pg pool and a Prisma client on the same database, with the
 * same limits (statement and idle-transaction timeouts, connect timeout).
 */
export function createDatabase(databaseUrl: string, limits: ConnectionLimits = {}): Database {
  return new Database(createPool(databaseUrl, limits), createPrisma(databaseUrl, limits));
}
