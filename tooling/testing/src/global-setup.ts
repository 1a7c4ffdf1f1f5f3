import { dropDatabase, prepareTemplate } from './databases.ts';

/**
 * Vitest global setup: one migrated template database per test run, named after this process
 * and handed to the test workers through the environment; dropped when the run ends.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const name = `test_template_${process.pid}`;
  process.env.BEANSTALK_TEST_TEMPLATE = name;
  await prepareTemplate(name);
  return () => dropDatabase(name);
}
