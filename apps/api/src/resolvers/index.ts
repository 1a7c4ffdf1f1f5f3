import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { Resolvers } from '../generated/graphql.ts';
import { ApiKey, authMutations, authQueries, Membership, User, Viewer } from './auth.ts';
import {
  Classification,
  Item,
  itemMutations,
  itemQueries,
  Label,
  Neighbor,
  Prediction,
} from './items.ts';
import { LabelClass, labelClassMutations } from './label-class.ts';
import { subscriptions } from './live.ts';
import { LabelTask, labelingMutations } from './labeling.ts';
import { Project, projectMutations } from './project.ts';
import { LabelIssue, reviewMutations, reviewQueries } from './review.ts';
import { coreQueries } from './core.ts';
import { EncoderVersion, encoderMutations } from './encoders.ts';
import {
  AnnotatorCount,
  Budget,
  Campaign,
  ClassMetrics,
  HeadVersion,
  Metrics,
  MetricSnapshot,
  Round,
  roundMutations,
  roundQueries,
} from './rounds.ts';
import { WebhookDelivery, WebhookEndpoint, webhookMutations, webhookQueries } from './webhooks.ts';

export const resolvers: Resolvers = {
  Upload: GraphQLUpload,
  Query: {
    ...coreQueries,
    ...authQueries,
    ...itemQueries,
    ...roundQueries,
    ...webhookQueries,
    ...reviewQueries,
  },
  Mutation: {
    ...projectMutations,
    ...labelClassMutations,
    ...authMutations,
    ...itemMutations,
    ...labelingMutations,
    ...roundMutations,
    ...encoderMutations,
    ...webhookMutations,
    ...reviewMutations,
  },
  Subscription: subscriptions,
  Project,
  LabelClass,
  Viewer,
  User,
  Membership,
  ApiKey,
  Item,
  Label,
  LabelIssue,
  Prediction,
  Neighbor,
  Classification,
  LabelTask,
  Round,
  Campaign,
  Budget,
  AnnotatorCount,
  HeadVersion,
  EncoderVersion,
  MetricSnapshot,
  ClassMetrics,
  Metrics,
  WebhookEndpoint,
  WebhookDelivery,
};
