import { existsSync, readFileSync } from 'node:fs';
import type { SerializedError } from 'vitest';
import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Counts of another test runner of the same `npm test` (the trainer's pytest), from the JUnit
 * XML file named by BEANSTALK_JUNIT_RESULTS: so the closing line covers every test.
 */
function otherRunner(): Counts {
  const file = process.env.BEANSTALK_JUNIT_RESULTS;
  if (!file || !existsSync(file)) return { passed: 0, failed: 0, skipped: 0 };
  const suite = readFileSync(file, 'utf8').match(/<testsuite\b[^>]*>/)?.[0] ?? '';
  const attr = (name: string) => Number(suite.match(new RegExp(`\\b${name}="(\\d+)"`))?.[1] ?? 0);
  const failed = attr('failures') + attr('errors');
  const skipped = attr('skipped');
  return { passed: attr('tests') - failed - skipped, failed, skipped };
}

/**
 * Prints one plain closing line, `Tests: N passed, N failed, N skipped`, after Vitest's own
 * summary, so CI can read the outcome of the whole run from its last line. A test that did not
 * run because its file's setup failed counts as failed (not skipped), a file whose teardown
 * failed counts one failure, an unhandled error counts as a failure, a run Vitest calls failed
 * with nothing else counted (a global setup that threw, before any file ran) counts one, and
 * pytest's results (BEANSTALK_JUNIT_RESULTS) are added in.
 */
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError> = [],
    reason: TestRunEndReason = 'passed',
  ) {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      const moduleFailed = module.state() === 'failed';
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        const meantToSkip = test.options.mode === 'skip' || test.options.mode === 'todo';
        if (state === 'passed') counts.passed++;
        else if (state === 'failed' || (moduleFailed && !meantToSkip)) {
          failedHere++;
        } else counts.skipped++;
      }
      // A file that failed with every test passed failed in a hook (an afterAll that threw, a
      // file that would not load): one failure more, so the line never says 0 failed.
      counts.failed += failedHere || (moduleFailed ? 1 : 0);
    }
    counts.failed += unhandledErrors.length;
    if (reason !== 'passed' && counts.failed === 0) counts.failed = 1;
    const other = otherRunner();
    counts.passed += other.passed;
    counts.failed += other.failed;
    counts.skipped += other.skipped;
    process.stdout.write(
      `\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
