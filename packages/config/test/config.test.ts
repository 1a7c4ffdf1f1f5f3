import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, repoRoot } from '../src/index.ts';

describe('parseConfig', () => {
  it('derives local defaults from the ports when nothing is set', () => {
    const config = parseConfig({});
    expect(config.postgres.databaseUrl).toBe('postgresql://beanstalk@127.0.0.1:54329/beanstalk');
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.dataDir).toBe(`${repoRoot}/.data`);
    expect(config.blobDir).toBe(`${repoRoot}/.data/blobs`);
  });

  it('follows configured ports and folders', () => {
    const config = parseConfig({
      BEANSTALK_PG_PORT: '6000',
      BEANSTALK_TEMPORAL_PORT: '7400',
      BEANSTALK_DATA_DIR: '/tmp/x',
    });
    expect(config.postgres.databaseUrl).toContain(':6000/');
    expect(config.temporal.address).toBe('127.0.0.1:7400');
    expect(config.blobDir).toBe('/tmp/x/blobs');
  });

  it('names every malformed variable in one error', () => {
    let error: unknown;
    try {
      parseConfig({
        BEANSTALK_PG_PORT: 'abc',
        DATABASE_URL: 'mysql://x',
        TEMPORAL_ADDRESS: 'nope',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/BEANSTALK_PG_PORT: must be a port number/);
    expect(message).toMatch(/DATABASE_URL: must look like postgresql:/);
    expect(message).toMatch(/TEMPORAL_ADDRESS: must be host:port/);
  });

  it('requires explicit connection settings in production, and only there', () => {
    expect(() =>
      parseConfig({ BEANSTALK_ENV: 'production', DATABASE_URL: 'postgresql://u@db:5432/b' }),
    ).toThrow(
      /TEMPORAL_ADDRESS: required when BEANSTALK_ENV=production\n.*BEANSTALK_API_URL: required/s,
    );
    // Frameworks set NODE_ENV=production for local runs too (next start); it changes nothing here.
    expect(parseConfig({ NODE_ENV: 'production' }).environment).toBe('local');
  });

  it('rejects an out-of-range port', () => {
    expect(() => parseConfig({ BEANSTALK_TEMPORAL_PORT: '70000' })).toThrow(
      /BEANSTALK_TEMPORAL_PORT: must be between 1 and 65535/,
    );
  });
});
