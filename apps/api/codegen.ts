import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/*.graphql',
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        contextType: '../context.ts#Context',
        useTypeImports: true,
        enumsAsTypes: true,
        // Resolvers receive database rows; the field resolvers in src/resolvers shape them.
        mappers: {
          Project: '@beanstalk/db#Project as ProjectModel',
          LabelClass: '@beanstalk/db#LabelClass as LabelClassModel',
          Item: '@beanstalk/db#Item as ItemModel',
          Label: '@beanstalk/db#Label as LabelModel',
          LabelIssue: '@beanstalk/db#LabelIssue as LabelIssueModel',
          LabelTask: '@beanstalk/db#LabelTask as LabelTaskModel',
          Round: '@beanstalk/db#Round as RoundModel',
          Campaign: '@beanstalk/db#Campaign as CampaignModel',
          HeadVersion: '@beanstalk/db#HeadVersion as HeadVersionModel',
          EncoderVersion: '@beanstalk/db#EncoderVersion as EncoderVersionModel',
          MetricSnapshot: '@beanstalk/db#MetricSnapshot as MetricSnapshotModel',
          User: '@beanstalk/db#User as UserModel',
          ApiKey: '@beanstalk/db#ApiKey as ApiKeyModel',
          WebhookEndpoint: '@beanstalk/db#WebhookEndpoint as WebhookEndpointModel',
          WebhookDelivery: '@beanstalk/db#WebhookDelivery as WebhookDeliveryModel',
          Membership: '../resolvers/mappers.ts#MembershipParent',
          Prediction: '../resolvers/mappers.ts#PredictionParent',
          Neighbor: '../resolvers/mappers.ts#NeighborParent',
          Classification: '../resolvers/mappers.ts#ClassificationParent',
          ClassMetrics: '../resolvers/mappers.ts#ClassMetricsParent',
          AnnotatorCount: '../resolvers/mappers.ts#AnnotatorCountParent',
          Budget: '../resolvers/mappers.ts#ProjectScoped',
          Metrics: '../resolvers/mappers.ts#ProjectScoped',
          Viewer: '../auth/viewer.ts#Viewer as ViewerModel',
        },
        scalars: { Upload: "Promise<import('graphql-upload/processRequest.mjs').FileUpload>" },
      },
    },
  },
};

export default config;
