import type { CodegenConfig } from '@graphql-codegen/cli';

// Operation types come from the API's schema files, the single source of the contract.
const config: CodegenConfig = {
  schema: '../api/schema/*.graphql',
  documents: ['app/**/*.tsx', 'src/**/*.ts', 'src/**/*.tsx'],
  ignoreNoDocuments: true,
  generates: {
    'src/generated/': {
      preset: 'client',
      // Fragments share a selection between a query and a subscription; no masking needed.
      presetConfig: { fragmentMasking: false },
      config: { documentMode: 'string', useTypeImports: true, enumsAsTypes: true },
    },
  },
};

export default config;
