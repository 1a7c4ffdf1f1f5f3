import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One Vitest run covers every workspace that has a test/ folder; each is a project named
// after its folder, so `vitest run --project db` runs one.
const root = path.dirname(fileURLToPath(import.meta.url));
const workspaces = [
  'packages/config',
  'packages/storage',
  'packages/db',
  'packages/ingest',
  'packages/ml',
  'apps/cli',
  'apps/worker',
  'apps/api',
  'apps/web',
  'tooling/vitest',
];

export default defineConfig({
  test: {
    reporters: ['default', path.join(root, 'tooling/vitest/closing-line-reporter.ts')],
    // Once per run, before any project: a migrated template database to clone from.
    globalSetup: [path.join(root, 'tooling/testing/src/global-setup.ts')],
    projects: workspaces
      .filter((dir) => existsSync(path.join(root, dir, 'test')))
      .map((dir) => ({
        // Shared test setup is not a workspace package (it depends on db, whose tests use it).
        resolve: {
          alias: [
            {
              find: '@beanstalk/testing',
              replacement: path.join(root, 'tooling/testing/src/index.ts'),
            },
            // graphql ships CommonJS (main) and ESM (module) builds; Node loads the first for the
            // libraries (Apollo, graphql-ws), Vite would give our code the second, and a schema
            // from one is refused by the other. One copy, as outside tests.
            { find: /^graphql$/, replacement: path.join(root, 'node_modules/graphql/index.js') },
          ],
        },
        test: {
          name: dir.split('/').at(-1)!,
          root: path.join(root, dir),
          include: ['test/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      })),
  },
});
