import type { Config } from '@beanstalk/config';
import { postgresDown, postgresStatus, postgresUp } from './postgres.ts';
import { temporalDown, temporalStatus, temporalUp } from './temporal.ts';

type Log = (line: string) => void;

/** Starts Postgres (+pgvector) and Temporal in the data folder; running ones are left alone. */
export async function servicesUp(config: Config, log: Log): Promise<void> {
  await postgresUp(config, log);
  await temporalUp(config, log);
}

export async function servicesDown(config: Config, log: Log): Promise<void> {
  await temporalDown(config, log);
  await postgresDown(config, log);
}

export async function servicesStatus(
  config: Config,
): Promise<{ postgres: string; temporal: string }> {
  const [postgres, temporal] = await Promise.all([postgresStatus(config), temporalStatus(config)]);
  return { postgres, temporal };
}

export { postgresDown, postgresLocation, postgresStatus, postgresUp } from './postgres.ts';
export { temporalDown, temporalStatus, temporalUp } from './temporal.ts';
