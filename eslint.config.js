import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

// SQL and Prisma live in packages/db (one repository per aggregate); everywhere else talks to
// the database through those repositories.
const SQL_OUTSIDE_DB = [
  {
    selector: 'ImportDeclaration[source.value=/^(pg|pg-copy-streams|pgvector|@prisma\\/.+)$/]',
    message: 'database drivers are for packages/db: use its repositories',
  },
  {
    selector:
      "CallExpression[callee.property.name='query'][arguments.0.type=/^(Literal|TemplateLiteral)$/]",
    message: 'SQL lives in packages/db: add a repository method there',
  },
  {
    selector:
      'MemberExpression[property.name=/^[$](queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe|transaction)$/]',
    message: 'SQL lives in packages/db: add a repository method there',
  },
  {
    selector: "MemberExpression[property.name='prisma']",
    message: 'Prisma lives in packages/db: use a repository (db.<aggregate>.<method>)',
  },
];

const APPS = [
  '**/apps/**',
  '@beanstalk/cli',
  '@beanstalk/api',
  '@beanstalk/worker',
  '@beanstalk/web',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next/**',
      '**/dist/**',
      '**/generated/**',
      '.data/**',
      'apps/web/next-env.d.ts',
      'apps/trainer/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Tests may set up and inspect state directly; nothing else outside packages/db may.
    files: [
      'apps/**/*.{ts,tsx}',
      'packages/**/*.ts',
      'workflows/**/*.ts',
      'bench/**/*.ts',
      'tooling/**/*.ts',
    ],
    ignores: ['packages/db/**', '**/test/**'],
    rules: { 'no-restricted-syntax': ['error', ...SQL_OUTSIDE_DB] },
  },
  {
    // Packages are libraries: they never reach into apps/, and only the workflow client
    // (packages/orchestration) knows the workflows, as Temporal clients do.
    files: ['packages/**/*.ts'],
    ignores: ['packages/orchestration/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...APPS, '@beanstalk/workflows'],
              message:
                'packages never import apps; workflows only through @beanstalk/orchestration',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/orchestration/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: APPS, message: 'packages never import apps' }] },
      ],
    },
  },
  {
    // Workflow code is replayed and must be deterministic: no I/O, no Node built-ins, and
    // activities only as types.
    files: ['workflows/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins
            .flatMap((m) => [m, `node:${m}`])
            .map((name) => ({
              name,
              message: 'workflows are deterministic: do I/O in an activity',
            })),
          patterns: [
            {
              group: ['@beanstalk/*', '!@beanstalk/shared'],
              allowTypeImports: true,
              message: 'workflows import activity types only (import type)',
            },
          ],
        },
      ],
    },
  },
  {
    // GraphQL answers in tests are untyped JSON; asserting on them is the point.
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The web app speaks to the platform only in GraphQL; the API reaches workflows only
    // through the workflow client.
    files: ['apps/web/app/**/*.{ts,tsx}', 'apps/web/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@beanstalk/*', '!@beanstalk/shared', '!@beanstalk/config'],
              message: 'the web app uses the GraphQL API only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@beanstalk/workflows', ...APPS],
              message: 'the API reaches workflows through @beanstalk/orchestration',
            },
          ],
        },
      ],
    },
  },
);
