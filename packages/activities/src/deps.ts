import type { Config } from '@beanstalk/config';
import type { Pool, PrismaClient } from '@beanstalk/db';
import type { BlobStore } from '@beanstalk/storage';
import type { EncoderCache } from './encoders.ts';

/** What activities reach the outside world through; built once per worker process. */
export interface ActivityDeps {
  config: Config;
  prisma: PrismaClient;
  pool: Pool;
  blobs: BlobStore;
  encoders: EncoderCache;
}
