import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const reporter = fileURLToPath(new URL('../closing-line-reporter.ts', import.meta.url));
const vitest = fileURLToPath(new URL('../../../node_modules/vitest/vitest.mjs', import.meta.url));

/** Runs Vitest on a folder of test files with the closing-line reporter; its last line. */
async function closingLine(dir: string, env: Record<string, string> = {}) {
  // Not the results file of the npm test this runs inside.
  const inherited = { ...process.env };
  delete inherited.BEANSTALK_JUNIT_RESULTS;
  const result = await exec(process.execPath, [vitest, 'run', '--root', dir], {
    cwd: dir,
    env: { ...inherited, ...env },
  }).catch((e: { stdout: string }) => e);
  return result.stdout.trim().split('\n').at(-1);
}

describe('the closing line of npm test', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reporter-'));
    await writeFile(
      path.join(dir, 'vitest.config.ts'),
      `export default { test: { include: ['*.test.ts'], reporters: ['default', ${JSON.stringify(reporter)}] } };`,
    );
    await writeFile(
      path.join(dir, 'setup-fails.test.ts'),
      `import { beforeAll, it } from 'vitest';
       beforeAll(() => { throw new Error('no database'); });
       it('one', () => {});
       it('two', () => {});`,
    );
    await writeFile(
      path.join(dir, 'mixed.test.ts'),
      `import { it } from 'vitest';
       it('passes', () => {});
       it.skip('is skipped on purpose', () => {});
       it('passes but leaves an error behind', async () => {
         setTimeout(() => { throw new Error('late'); }, 0);
         await new Promise((r) => setTimeout(r, 50));
       });`,
    );
    await writeFile(
      path.join(dir, 'teardown-fails.test.ts'),
      `import { afterAll, it } from 'vitest';
       afterAll(() => { throw new Error('could not drop the database'); });
       it('passes', () => {});`,
    );
    await writeFile(
      path.join(dir, 'pytest.xml'),
      '<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="7" time="1.0"></testsuite></testsuites>',
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('counts tests of a failed setup and unhandled errors as failures, and adds pytest', async () => {
    // Vitest: 3 passed, 1 skipped, 2 failed by their setup, 1 file failed in its teardown,
    // 1 unhandled error. pytest: 7 tests, 1 failure, 1 skipped.
    expect(await closingLine(dir, { BEANSTALK_JUNIT_RESULTS: path.join(dir, 'pytest.xml') })).toBe(
      'Tests: 8 passed, 5 failed, 2 skipped',
    );
    expect(await closingLine(dir)).toBe('Tests: 3 passed, 4 failed, 1 skipped');
  });

  it('counts a global setup that threw (no file ran) as a failure', async () => {
    const setupDir = await mkdtemp(path.join(tmpdir(), 'reporter-setup-'));
    try {
      await writeFile(
        path.join(setupDir, 'vitest.config.ts'),
        `export default { test: { include: ['*.test.ts'], globalSetup: ['./global-setup.ts'], reporters: ['default', ${JSON.stringify(reporter)}] } };`,
      );
      await writeFile(
        path.join(setupDir, 'global-setup.ts'),
        `export default () => { throw new Error('Cannot reach Postgres'); };`,
      );
      await writeFile(
        path.join(setupDir, 'never-runs.test.ts'),
        `import { it } from 'vitest'; it('would pass', () => {});`,
      );
      expect(await closingLine(setupDir)).toBe('Tests: 0 passed, 1 failed, 0 skipped');
    } finally {
      await rm(setupDir, { recursive: true, force: true });
    }
  });
});
