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
        mappers: {
          Project: '@beanstalk/db#Project as ProjectModel',
          LabelClass: '@beanstalk/db#LabelClass as LabelClassModel',
        },
      },
    },
  },
};

export default config;
