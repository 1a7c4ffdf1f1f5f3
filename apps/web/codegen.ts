import type { CodegenConfig } from '@graphql-codegen/cli';

// Operation types come from the API's schema files, the single source of the contract.
const config: CodegenConfig = {
  schema: '../api/schema/*.graphql',
  documents: ['app/**/*.tsx', 'src/**/*.ts', 'src/**/*.tsx'],
  ignoreNoDocuments: true,
  generates: {
    'src/generated/': {
      preset: 'client',
      config: { documentMode: 'string', useTypeImports: true, enumsAsTypes: true },
    },
  },
};

export default config;
