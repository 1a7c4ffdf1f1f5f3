import type { Config } from '@beanstalk/config';
import type { Database } from '@beanstalk/db';
import type { EncoderCache } from '@beanstalk/model-runtime';
import type { BlobStore } from '@beanstalk/storage';

/** What activities reach the outside world through; built once per worker process. */
export interface ActivityDeps {
  config: Config;
  db: Database;
  blobs: BlobStore;
  encoders: EncoderCache;
}
