import { AppError } from '@beanstalk/shared';
import { actor } from '../auth/permissions.ts';
import type {
  LabelIssueResolvers,
  MutationResolvers,
  QueryResolvers,
} from '../generated/graphql.ts';
import { checkOwned, iso, projectBySlug } from './access.ts';

const MAX_ISSUES_PAGE = 100;
const MAX_ISSUES_OFFSET = 100_000;

export const LabelIssue: LabelIssueResolvers = {
  item: async (issue, _args, { loaders }) => (await loaders.item.load(issue.itemId))!,
  label: async (issue, _args, { loaders }) => (await loaders.label.load(issue.labelId))!,
  suggestedClass: async (issue, _args, { loaders }) =>
    (await loaders.labelClass.load(issue.suggestedClassId))!,
  roundNumber: async (issue, _args, { loaders }) =>
    issue.roundId ? ((await loaders.round.load(issue.roundId))?.number ?? null) : null,
  reviewedBy: (issue, _args, { loaders }) =>
    issue.reviewedById ? loaders.user.load(issue.reviewedById) : null,
  reviewedAt: (issue) => iso(issue.reviewedAt),
  reviewLabel: (issue, _args, { loaders }) =>
    issue.reviewLabelId ? loaders.label.load(issue.reviewLabelId) : null,
  createdAt: (issue) => issue.createdAt.toISOString(),
};

/** A page's size and start, checked: 1..100 rows from at most 100,000 in. */
function page(first: number | null | undefined, offset: number | null | undefined) {
  const n = first ?? 20;
  const skip = offset ?? 0;
  if (!Number.isInteger(n) || n < 1 || n > MAX_ISSUES_PAGE) {
    throw new AppError('BAD_USER_INPUT', `first must be 1..${MAX_ISSUES_PAGE}`);
  }
  if (!Number.isInteger(skip) || skip < 0 || skip > MAX_ISSUES_OFFSET) {
    throw new AppError('BAD_USER_INPUT', `offset must be 0..${MAX_ISSUES_OFFSET}`);
  }
  return { n, skip };
}

export const reviewQueries: Pick<QueryResolvers, 'labelIssues' | 'labelHealth' | 'autoLabels'> = {
  async labelIssues(_parent, { project: slug, status, first, offset }, ctx) {
    const project = await projectBySlug(ctx, slug, 'review');
    const { n, skip } = page(first, offset);
    const { issues, total } = await ctx.db.labelIssues.list({
      projectId: project.id,
      status: status ?? 'OPEN',
      first: n,
      offset: skip,
    });
    return { issues, totalCount: total };
  },
  async autoLabels(_parent, { project: slug, first, offset }, ctx) {
    const project = await projectBySlug(ctx, slug, 'review');
    const { n, skip } = page(first, offset);
    const { labels, total } = await ctx.db.labels.currentAuto({
      projectId: project.id,
      first: n,
      offset: skip,
    });
    return { labels, totalCount: total };
  },
  async labelHealth(_parent, { project: slug }, ctx) {
    const project = await projectBySlug(ctx, slug, 'read');
    const counts = await ctx.db.labelIssues.counts(project.id);
    return {
      open: counts.OPEN,
      kept: counts.KEPT,
      relabeled: counts.RELABELED,
      cleared: counts.CLEARED,
      sent: counts.SENT,
    };
  },
};

export const reviewMutations: Pick<MutationResolvers, 'reviewLabelIssue'> = {
  async reviewLabelIssue(_parent, { issueId, decision, labelClassId, reason }, ctx) {
    const { annotatorId, apiKeyId } = actor(ctx.viewer);
    const { issue } = await ctx.db.labelIssues.review({
      issueId,
      decision,
      labelClassId,
      reason,
      reviewerId: annotatorId,
      apiKeyId,
      // Checked on the locked issue, before anything is written.
      authorize: (projectId) => checkOwned(ctx, projectId, `label issue ${issueId}`, 'review'),
    });
    return issue;
  },
};
