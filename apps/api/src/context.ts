import type { Config } from '@beanstalk/config';
import type { Pool, PrismaClient } from '@beanstalk/db';

/** What every resolver receives; built once per request by the HTTP layer or a test. */
export interface Context {
  config: Config;
  prisma: PrismaClient;
  pool: Pool;
}
