import { prepareTemplate } from './databases.ts';

/** Vitest global setup: one migrated template database per test run. */
export default async function setup(): Promise<void> {
  await prepareTemplate();
}
