import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@beanstalk/config';
import { activateVectorSet, budgetOf, vectorSetState } from '@beanstalk/db';
import {
  campaignWorkflowId,
  roundStatus,
  startCampaign,
  startRound,
} from '@beanstalk/orchestration';
import { AppError } from '@beanstalk/shared';

import type { Context } from '../context.ts';
import type {
  BudgetResolvers,
  CampaignResolvers,
  ClassMetricsResolvers,
  EncoderVersionResolvers,
  HeadVersionResolvers,
  MetricSnapshotResolvers,
  MetricsResolvers,
  MutationResolvers,
  QueryResolvers,
  RoundResolvers,
  AnnotatorCountResolvers,
} from '../generated/graphql.ts';
import { iso, owned, projectBySlug } from './access.ts';
import type { ClassMetricsParent } from './mappers.ts';

const ENDED = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);
const PROGRESS_DEADLINE_MS = 2000;

export const Round: RoundResolvers = {
  headVersion: (round, _args, { prisma }) =>
    prisma.headVersion.findUnique({ where: { roundId: round.id } }),
  metrics: (round, _args, { prisma }) =>
    prisma.metricSnapshot.findFirst({
      where: { roundId: round.id },
      orderBy: { createdAt: 'desc' },
    }),
  async progress(round, _args, { temporal }) {
    if (ENDED.has(round.status) || !round.workflowId) return null;
    try {
      const client = await temporal();
      // Without a worker a query waits; a round's page should not.
      const status = await client.withDeadline(Date.now() + PROGRESS_DEADLINE_MS, () =>
        roundStatus(client, round.workflowId!),
      );
      return {
        ...status,
        activity: status.activity && {
          ...status.activity,
          details: status.activity.details == null ? null : JSON.stringify(status.activity.details),
        },
      };
    } catch {
      return null;
    }
  },
  startedAt: (round) => round.startedAt.toISOString(),
  endedAt: (round) => iso(round.endedAt),
};

export const Campaign: CampaignResolvers = {
  rounds: (campaign, _args, { prisma }) =>
    prisma.round.findMany({ where: { campaignId: campaign.id }, orderBy: { number: 'asc' } }),
  startedAt: (campaign) => campaign.startedAt.toISOString(),
  endedAt: (campaign) => iso(campaign.endedAt),
};

export const Budget: BudgetResolvers = {
  total: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).total,
  spent: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).spent,
  reserved: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).reserved,
  remaining: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).remaining,
  async perAnnotator(b, _args, { pool }) {
    const { rows } = await pool.query<{
      user_id: string | null;
      labels: string;
      recent: string;
      skipped: string;
    }>(
      `SELECT user_id, sum(labels) AS labels, sum(recent) AS recent, sum(skipped) AS skipped FROM (
         SELECT annotator_id AS user_id, count(*) AS labels,
                count(*) FILTER (WHERE created_at > now() - interval '24 hours') AS recent,
                0 AS skipped
           FROM labels WHERE project_id = $1 AND source = 'HUMAN' GROUP BY annotator_id
         UNION ALL
         SELECT assignee_id, 0, 0, count(*) FROM label_tasks
          WHERE project_id = $1 AND status = 'SKIPPED' GROUP BY assignee_id) x
       GROUP BY user_id ORDER BY sum(labels) DESC`,
      [b.projectId],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      labels: Number(r.labels),
      skipped: Number(r.skipped),
      labelsPerHour: Number(r.recent) / 24,
    }));
  },
  async labelsPerHour(b, _args, { pool }) {
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM labels
        WHERE project_id = $1 AND source = 'HUMAN' AND created_at > now() - interval '24 hours'`,
      [b.projectId],
    );
    return Number(rows[0]!.n) / 24;
  },
  async agreement(b, _args, { pool }) {
    const { rows } = await pool.query<{ items: string; agreeing: string }>(
      `SELECT count(*) AS items, count(*) FILTER (WHERE classes = 1) AS agreeing FROM (
         SELECT item_id, count(DISTINCT label_class_id) AS classes,
                count(DISTINCT annotator_id) AS people
           FROM labels
          WHERE project_id = $1 AND source = 'HUMAN' AND label_class_id IS NOT NULL
            AND annotator_id IS NOT NULL
          GROUP BY item_id) x
        WHERE people >= 2`,
      [b.projectId],
    );
    return { items: Number(rows[0]!.items), agreeing: Number(rows[0]!.agreeing) };
  },
  async roundsLeft(b, _args, ctx) {
    const [{ remaining }, project] = await Promise.all([
      ctx.loaders.budget.load(b.projectId),
      ctx.loaders.project.load(b.projectId),
    ]);
    return Math.ceil(remaining / project!.roundSize);
  },
};

export const AnnotatorCount: AnnotatorCountResolvers = {
  user: (a, _args, { loaders }) => (a.userId ? loaders.user.load(a.userId) : null),
};

export const HeadVersion: HeadVersionResolvers = {
  roundNumber: async (h, _args, { loaders }) =>
    h.roundId ? ((await loaders.round.load(h.roundId))?.number ?? null) : null,
  macroF1: (h) => (h.metrics as { eval?: { macroF1?: number } }).eval?.macroF1 ?? null,
  createdAt: (h) => h.createdAt.toISOString(),
  promotedAt: (h) => iso(h.promotedAt),
  active: async (h, _args, { loaders }) =>
    (await loaders.project.load(h.projectId))?.activeHeadVersionId === h.id,
};

export const EncoderVersion: EncoderVersionResolvers = {
  createdAt: (e) => e.createdAt.toISOString(),
};

export const MetricSnapshot: MetricSnapshotResolvers = {
  roundNumber: async (m, _args, { loaders }) =>
    m.roundId ? ((await loaders.round.load(m.roundId))?.number ?? null) : null,
  async perClass(m, _args, { prisma }) {
    const details = m.details as { perClass?: Omit<ClassMetricsParent, 'labelClassId'>[] };
    const classes = await prisma.labelClass.findMany({
      where: { projectId: m.projectId },
      orderBy: { position: 'asc' },
    });
    return (details.perClass ?? []).map((c, i) => ({ ...c, labelClassId: classes[i]!.id }));
  },
  confusion: (m) => (m.details as { confusion?: number[][] }).confusion ?? [],
  createdAt: (m) => m.createdAt.toISOString(),
};

export const ClassMetrics: ClassMetricsResolvers = {
  labelClass: async (c, _args, { loaders }) => (await loaders.labelClass.load(c.labelClassId))!,
};

/** Index of the first value >= x in an ascending array. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const Metrics: MetricsResolvers = {
  snapshots: (m, _args, { prisma }) =>
    prisma.metricSnapshot.findMany({
      where: { projectId: m.projectId },
      orderBy: { createdAt: 'asc' },
    }),
  latest: (m, _args, { prisma }) =>
    prisma.metricSnapshot.findFirst({
      where: { projectId: m.projectId },
      orderBy: { createdAt: 'desc' },
    }),
  /**
   * Held out: each human-labeled item's prediction was made before its label existed (a
   * round scores only unlabeled items), so confidence vs correctness here is honest.
   */
  async precisionRecall(m, _args, { pool, loaders }) {
    const head = (await loaders.project.load(m.projectId))?.activeHeadVersionId;
    if (!head) return [];
    const [labeled, pool_] = await Promise.all([
      pool.query<{ confidence: number; correct: boolean }>(
        `SELECT p.confidence, p.label_class_id = cl.label_class_id AS correct
           FROM predictions p JOIN current_labels cl ON cl.item_id = p.item_id
          WHERE p.head_version_id = $1 AND cl.source = 'HUMAN' AND cl.label_class_id IS NOT NULL`,
        [head],
      ),
      pool.query<{ confidence: number }>(
        `SELECT p.confidence FROM predictions p
          WHERE p.head_version_id = $1
            AND NOT EXISTS (SELECT 1 FROM current_labels cl
                             WHERE cl.item_id = p.item_id AND cl.label_class_id IS NOT NULL)`,
        [head],
      ),
    ]);
    const rows = [...labeled.rows].sort((a, b) => b.confidence - a.confidence);
    if (rows.length === 0) return [];
    const unlabeled = Float64Array.from(pool_.rows, (r) => r.confidence).sort();
    const thresholds = [...new Set(rows.map((r) => r.confidence))];
    // At most 100 points, evenly spaced over the distinct confidences.
    const step = Math.max(1, Math.ceil(thresholds.length / 100));
    const chosen = thresholds.filter((_, i) => i % step === 0 || i === thresholds.length - 1);
    return chosen.map((threshold) => {
      const accepted = rows.filter((r) => r.confidence >= threshold);
      const correct = accepted.filter((r) => r.correct).length;
      return {
        threshold,
        precision: correct / accepted.length,
        recall: accepted.length / rows.length,
        count: unlabeled.length - lowerBound(unlabeled, threshold),
      };
    });
  },
  async randomBaseline(m, _args, { prisma, loaders }) {
    const project = await loaders.project.load(m.projectId);
    const file = path.join(repoRoot, 'bench/results/label-efficiency.json');
    if (!project?.encoderVersionId || !existsSync(file)) return null;
    const encoder = await prisma.encoderVersion.findUnique({
      where: { id: project.encoderVersionId },
    });
    const results = JSON.parse(readFileSync(file, 'utf8')) as {
      encoder: string;
      points: { run: string; humanLabels: number; macroF1: number }[];
    };
    // The benchmark ran on Fashion-MNIST with one encoder; it is this project's baseline only
    // when the project uses that encoder.
    if (path.basename(results.encoder) !== encoder?.name) return null;
    return results.points
      .filter((p) => p.run === 'random')
      .map((p) => ({ labels: p.humanLabels, macroF1: p.macroF1 }));
  },
};

export const roundQueries: Pick<
  QueryResolvers,
  'rounds' | 'round' | 'campaign' | 'budget' | 'metrics' | 'encoderVersions' | 'headVersions'
> = {
  async rounds(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    return ctx.prisma.round.findMany({
      where: { projectId: project.id },
      orderBy: { number: 'desc' },
    });
  },
  async round(_parent, { id }, ctx) {
    const round = await ctx.prisma.round.findUnique({ where: { id } }).catch(() => null);
    if (!round) return null;
    return owned(ctx, round, `round ${id}`, 'read');
  },
  async campaign(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    return ctx.prisma.campaign.findFirst({
      where: { projectId: project.id },
      orderBy: { startedAt: 'desc' },
    });
  },
  async budget(_parent, { project: slug }, ctx) {
    return { projectId: (await projectBySlug(ctx, slug, 'read')).id };
  },
  async metrics(_parent, { project: slug }, ctx) {
    return { projectId: (await projectBySlug(ctx, slug, 'read')).id };
  },
  encoderVersions(_parent, _args, { prisma, viewer }) {
    if (viewer.kind === 'anonymous')
      throw new AppError('UNAUTHENTICATED', 'sign in or send an API key');
    return prisma.encoderVersion.findMany({ orderBy: { createdAt: 'desc' } });
  },
  async headVersions(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    return ctx.prisma.headVersion.findMany({
      where: { projectId: project.id },
      orderBy: { createdAt: 'desc' },
    });
  },
};

/** Makes a head active: its vectors answer kNN from now on; the previous one is retired. */
async function promote(ctx: Context, headVersionId: string, note: string) {
  const head = await ctx.prisma.headVersion.findUniqueOrThrow({ where: { id: headVersionId } });
  if ((await vectorSetState(ctx.pool, head.id)) !== 'published') {
    throw new AppError(
      'CONFLICT',
      `head ${head.id} has no published vectors (it was never indexed, or its set was dropped)`,
    );
  }
  const previous = await activateVectorSet(ctx.pool, head.projectId, head.id);
  if (previous && previous !== head.id) {
    await ctx.prisma.headVersion.update({
      where: { id: previous },
      data: { status: 'RETIRED', retiredAt: new Date() },
    });
  }
  return ctx.prisma.headVersion.update({
    where: { id: head.id },
    data: { status: 'ACTIVE', promotedAt: new Date(), retiredAt: null, note },
  });
}

const who = (ctx: Context) => (ctx.viewer.kind === 'user' ? ctx.viewer.user.email : 'an API key');

export const roundMutations: Pick<
  MutationResolvers,
  | 'startCampaign'
  | 'cancelCampaign'
  | 'startRound'
  | 'cancelRound'
  | 'promoteHeadVersion'
  | 'rollbackHeadVersion'
> = {
  async startCampaign(_parent, { project: slug, maxRounds }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    if (maxRounds != null && !(Number.isInteger(maxRounds) && maxRounds >= 1)) {
      throw new AppError('BAD_USER_INPUT', 'maxRounds must be a positive whole number');
    }
    if ((await budgetOf(ctx.pool, project.id)).remaining === 0) {
      throw new AppError('BUDGET_EXHAUSTED', 'no label budget left: add some with addBudget first');
    }
    const handle = await startCampaign(
      await ctx.temporal(),
      { projectId: project.id, maxRounds: maxRounds ?? undefined },
      ctx.queues,
    );
    return { workflowId: handle.workflowId };
  },
  async cancelCampaign(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    const handle = (await ctx.temporal()).workflow.getHandle(campaignWorkflowId(project.id));
    try {
      await handle.cancel();
    } catch (error) {
      if ((error as Error).name === 'WorkflowNotFoundError') {
        throw new AppError('NOT_FOUND', `project ${slug} has no campaign running`);
      }
      throw error;
    }
    return true;
  },
  async startRound(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    if ((await budgetOf(ctx.pool, project.id)).remaining === 0) {
      throw new AppError('BUDGET_EXHAUSTED', 'no label budget left: add some with addBudget first');
    }
    const handle = await startRound(
      await ctx.temporal(),
      { projectId: project.id },
      randomUUID(),
      ctx.queues,
    );
    return { workflowId: handle.workflowId };
  },
  async cancelRound(_parent, { id }, ctx) {
    const round = await owned(
      ctx,
      await ctx.prisma.round.findUnique({ where: { id } }).catch(() => null),
      `round ${id}`,
      'manage',
    );
    if (ENDED.has(round.status)) {
      throw new AppError(
        'CONFLICT',
        `round ${round.number} has already ${round.status.toLowerCase()}`,
      );
    }
    if (round.workflowId)
      await (await ctx.temporal()).workflow.getHandle(round.workflowId).cancel();
    return round;
  },
  async promoteHeadVersion(_parent, { id }, ctx) {
    const head = await owned(
      ctx,
      await ctx.prisma.headVersion.findUnique({ where: { id } }).catch(() => null),
      `head version ${id}`,
      'manage',
    );
    return promote(ctx, head.id, `promoted by ${who(ctx)}`);
  },
  async rollbackHeadVersion(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    const current = project.activeHeadVersionId
      ? await ctx.prisma.headVersion.findUnique({ where: { id: project.activeHeadVersionId } })
      : null;
    const candidates = await ctx.prisma.headVersion.findMany({
      where: {
        projectId: project.id,
        id: { not: current?.id },
        promotedAt: current?.promotedAt ? { lt: current.promotedAt } : { not: null },
      },
      orderBy: { promotedAt: 'desc' },
    });
    for (const candidate of candidates) {
      if ((await vectorSetState(ctx.pool, candidate.id)) === 'published') {
        return promote(ctx, candidate.id, `rolled back to by ${who(ctx)}`);
      }
    }
    throw new AppError('CONFLICT', 'no earlier head with published vectors to roll back to');
  },
};
