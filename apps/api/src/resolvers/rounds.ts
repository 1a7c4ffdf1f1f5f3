import { randomUUID } from 'node:crypto';
import { precisionRecallCurve } from '@beanstalk/ml';
import {
  cancelCampaign,
  roundStatus,
  startCampaign,
  startRound,
  startSearchIndexRefresh,
} from '@beanstalk/orchestration';
import { MIN_GOLD_ANSWERS } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';

import type { Context } from '../context.ts';
import type {
  BudgetResolvers,
  CampaignResolvers,
  ClassMetricsResolvers,
  HeadVersionResolvers,
  MetricSnapshotResolvers,
  MetricsResolvers,
  MutationResolvers,
  QueryResolvers,
  RoundResolvers,
  AnnotatorCountResolvers,
} from '../generated/graphql.ts';
import { iso, owned, projectBySlug } from './access.ts';
import { isPlatformAdmin, may, requireSignedIn, visibleProjects } from '../auth/permissions.ts';
import type { ClassMetricsParent } from './mappers.ts';
import { emitFromApi } from './webhooks.ts';

const ENDED = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);
const PROGRESS_DEADLINE_MS = 2000;
/** Points of a precision-recall preview, at most. */
const PREVIEW_POINTS = 100;

/**
 * A head promoted by hand answers neighbour searches once its index is built; a head whose
 * index is still there (a rollback) already does. Best effort: without Temporal the
 * maintenance pass starts the build later.
 */
async function refreshSearchIndex(ctx: Context, headVersionId: string) {
  if ((await ctx.db.vectorSets.searchIndexState(headVersionId)) === 'ready') return;
  try {
    await startSearchIndexRefresh(await ctx.temporal(), headVersionId, ctx.queues);
  } catch (error) {
    console.warn(`search index of head ${headVersionId} waits: ${(error as Error).message}`);
  }
}

export const Round: RoundResolvers = {
  headVersion: (round, _args, { db }) => db.heads.byRound(round.id),
  async autoTruePrecisionSimulated(round, _args, { db }) {
    if (round.autoAccepted === 0) return null;
    const truth = await db.labels.autoTruthOfRound(round.id);
    return truth ? truth.right / truth.checked : null;
  },
  metrics: (round, _args, { db }) => db.metrics.latestOfRound(round.id),
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
  rounds: (campaign, _args, { db }) => db.rounds.ofCampaign(campaign.id),
  startedAt: (campaign) => campaign.startedAt.toISOString(),
  endedAt: (campaign) => iso(campaign.endedAt),
};

export const Budget: BudgetResolvers = {
  total: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).total,
  spent: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).spent,
  reserved: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).reserved,
  remaining: async (b, _args, ctx) => (await ctx.loaders.budget.load(b.projectId)).remaining,
  perAnnotator: async (b, _args, { db }) =>
    (await db.labels.annotatorStats(b.projectId)).map((a) => ({ ...a, projectId: b.projectId })),
  labelsPerHour: (b, _args, { db }) => db.labels.humanLabelsPerHour(b.projectId),
  agreement: (b, _args, { db }) => db.labels.agreement(b.projectId),
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
  async quality(a, _args, ctx) {
    if (!may(ctx.viewer, a.projectId, 'manage')) return null;
    const project = (await ctx.loaders.project.load(a.projectId))!;
    const goldAccuracy = a.goldAnswered ? a.goldCorrect / a.goldAnswered : null;
    return {
      goldAnswered: a.goldAnswered,
      goldCorrect: a.goldCorrect,
      goldAccuracy,
      belowGoldLevel:
        goldAccuracy !== null &&
        a.goldAnswered >= MIN_GOLD_ANSWERS &&
        goldAccuracy < project.goldAccuracyWarning,
      minGoldAnswers: MIN_GOLD_ANSWERS,
      compared: a.compared,
      agreed: a.agreed,
      agreement: a.compared ? a.agreed / a.compared : null,
    };
  },
};

export const HeadVersion: HeadVersionResolvers = {
  roundNumber: async (h, _args, { loaders }) =>
    h.roundId ? ((await loaders.round.load(h.roundId))?.number ?? null) : null,
  macroF1: (h) => (h.metrics as { eval?: { macroF1?: number } }).eval?.macroF1 ?? null,
  createdAt: (h) => h.createdAt.toISOString(),
  promotedAt: (h) => iso(h.promotedAt),
  active: async (h, _args, { loaders }) =>
    (await loaders.project.load(h.projectId))?.activeHeadVersionId === h.id,
  searchIndex: async (h, _args, { loaders }) =>
    (await loaders.searchIndex.load(h.id)).toUpperCase() as 'NONE' | 'BUILDING' | 'READY',
};

export const MetricSnapshot: MetricSnapshotResolvers = {
  roundNumber: async (m, _args, { loaders }) =>
    m.roundId ? ((await loaders.round.load(m.roundId))?.number ?? null) : null,
  async perClass(m, _args, { db }) {
    const details = m.details as { perClass?: Omit<ClassMetricsParent, 'labelClassId'>[] };
    const classes = await db.classes.ofProject(m.projectId);
    return (details.perClass ?? []).map((c, i) => ({ ...c, labelClassId: classes[i]!.id }));
  },
  confusion: (m) => (m.details as { confusion?: number[][] }).confusion ?? [],
  // Snapshots from before the names changed said 'hidden' and 'labels'.
  truth: (m) => {
    const truth = (m.details as { truth?: string }).truth;
    return truth === 'simulated' || truth === 'hidden' ? 'SIMULATED' : 'HUMAN';
  },
  evaluated: (m) => (m.details as { evaluated?: number }).evaluated ?? 0,
  createdAt: (m) => m.createdAt.toISOString(),
};

export const ClassMetrics: ClassMetricsResolvers = {
  labelClass: async (c, _args, { loaders }) => (await loaders.labelClass.load(c.labelClassId))!,
};

export const Metrics: MetricsResolvers = {
  snapshots: (m, _args, { db }) => db.metrics.ofProject(m.projectId),
  latest: (m, _args, { db }) => db.metrics.latestOfProject(m.projectId),
  /**
   * Held out: each human-labeled item's prediction was made before its label existed (a
   * round scores only unlabeled items), so confidence vs correctness here is honest. Each
   * point also counts the unlabeled pool items its threshold would auto-label.
   */
  async precisionRecall(m, _args, { db, loaders }) {
    const head = (await loaders.project.load(m.projectId))?.activeHeadVersionId;
    if (!head) return [];
    const labeled = await db.predictions.heldOutOutcomes(head);
    const curve = precisionRecallCurve(
      labeled.map((r) => r.confidence),
      labeled.map((r) => r.correct),
    );
    // Evenly spaced over the distinct confidences, the lowest threshold always kept.
    const step = Math.max(1, Math.ceil(curve.length / PREVIEW_POINTS));
    const points = curve.filter((_, i) => i % step === 0 || i === curve.length - 1);
    const counts = await db.predictions.unlabeledAtOrAbove(
      head,
      points.map((p) => p.threshold),
    );
    return points.map((p, i) => ({
      threshold: p.threshold,
      precision: p.precision,
      // Of the labeled items, the share this threshold accepts.
      recall: p.accepted / labeled.length,
      count: counts[i]!,
    }));
  },
};

export const roundQueries: Pick<
  QueryResolvers,
  'rounds' | 'round' | 'campaign' | 'budget' | 'metrics' | 'encoderVersions' | 'headVersions'
> = {
  async rounds(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    return ctx.db.rounds.ofProject(project.id);
  },
  async round(_parent, { id }, ctx) {
    const round = await ctx.loaders.round.load(id);
    if (!round) return null;
    return owned(ctx, round, `round ${id}`, 'read');
  },
  async campaign(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    return ctx.db.rounds.latestCampaign(project.id);
  },
  async budget(_parent, { project: slug }, ctx) {
    return { projectId: (await projectBySlug(ctx, slug, 'read')).id };
  },
  async metrics(_parent, { project: slug }, ctx) {
    return { projectId: (await projectBySlug(ctx, slug, 'read')).id };
  },
  encoderVersions(_parent, _args, { db, viewer }) {
    requireSignedIn(viewer);
    return isPlatformAdmin(viewer)
      ? db.encoders.list()
      : db.encoders.usedBy(visibleProjects(viewer));
  },
  async headVersions(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    return ctx.db.heads.ofProject(project.id);
  },
};

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
    if ((await ctx.db.budget.of(project.id)).remaining === 0) {
      throw new AppError('BUDGET_EXHAUSTED', 'no label budget left: add some with addBudget first');
    }
    const handle = await startCampaign(
      { db: ctx.db, client: await ctx.temporal() },
      { projectId: project.id, maxRounds: maxRounds ?? undefined },
      ctx.queues,
    );
    return { workflowId: handle.workflowId };
  },
  async cancelCampaign(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    await cancelCampaign({ db: ctx.db, client: await ctx.temporal() }, project.id);
    return true;
  },
  async startRound(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    if ((await ctx.db.budget.of(project.id)).remaining === 0) {
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
    const round = await owned(ctx, await ctx.loaders.round.load(id), `round ${id}`, 'manage');
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
      await ctx.loaders.headVersion.load(id),
      `head version ${id}`,
      'manage',
    );
    const promoted = await ctx.db.heads.promote(head.id, { note: `promoted by ${who(ctx)}` });
    await refreshSearchIndex(ctx, promoted.id);
    await emitFromApi(ctx, {
      projectId: promoted.projectId,
      event: 'HEAD_PROMOTED',
      key: `head-promoted:${promoted.id}:${Date.now()}`,
      payload: { head: { id: promoted.id }, by: who(ctx) },
    });
    return promoted;
  },
  async rollbackHeadVersion(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'manage');
    const from = project.activeHeadVersionId;
    const head = await ctx.db.heads.rollback(project.id, `rolled back to by ${who(ctx)}`);
    await refreshSearchIndex(ctx, head.id);
    await emitFromApi(ctx, {
      projectId: project.id,
      event: 'HEAD_ROLLED_BACK',
      key: `head-rolled-back:${from}:${head.id}:${Date.now()}`,
      payload: { head: { id: head.id }, from: from ? { id: from } : null, by: who(ctx) },
    });
    return head;
  },
};
