import type { Client } from '@temporalio/client';
import type { Config } from '@beanstalk/config';
import type { Database, ReadCache } from '@beanstalk/db';
import type { Classifier, EncoderCache } from '@beanstalk/model-runtime';
import type { Queues } from '@beanstalk/orchestration';
import type { BlobStore } from '@beanstalk/storage';
import type { LoginThrottle } from './auth/throttle.ts';
import type { Viewer } from './auth/viewer.ts';
import type { LiveHub } from './live/hub.ts';
import type { Loaders } from './loaders.ts';

/** Long-lived parts the API is built from; one set per process. */
export interface Services {
  config: Config;
  db: Database;
  /** The reads every classification makes, from memory while their changes are heard. */
  reads: ReadCache;
  blobs: BlobStore;
  encoders: EncoderCache;
  classifier: Classifier;
  /** Connected on first use, so the API starts (and answers reads) while Temporal is down. */
  temporal: () => Promise<Client>;
  queues: Queues;
  logins: LoginThrottle;
  /** Live changes for subscriptions, from one database listener per process. */
  live: LiveHub;
}

/** What every resolver receives; built per request. */
export interface Context extends Services {
  viewer: Viewer;
  /** The client's address (the connection's, or a trusted proxy's word for it). */
  clientAddress: string;
  loaders: Loaders;
  /** Sets a response header (the session cookie). */
  setHeader: (name: string, value: string) => void;
}
