import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, redactUrl, repoRoot } from '../src/index.ts';

describe('parseConfig', () => {
  it('derives local defaults from the ports when nothing is set', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'beanstalk-config-'));
    const config = parseConfig({ BEANSTALK_DATA_DIR: empty });
    // The application role; without a generated password yet, none.
    expect(config.postgres.databaseUrl).toBe(
      'postgresql://beanstalk_app@127.0.0.1:54329/beanstalk',
    );
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(parseConfig({}).dataDir).toBe(`${repoRoot}/.data`);
    expect(parseConfig({}).blobDir).toBe(`${repoRoot}/.data/blobs`);
  });

  it('connects to the local cluster with the password generated for its data folder', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'beanstalk-config-'));
    mkdirSync(path.join(dir, 'secrets'));
    writeFileSync(path.join(dir, 'secrets', 'postgres-app.password'), 'pw/with+odd=chars\n');
    const url = new URL(parseConfig({ BEANSTALK_DATA_DIR: dir }).postgres.databaseUrl);
    expect(url.username).toBe('beanstalk_app');
    expect(decodeURIComponent(url.password)).toBe('pw/with+odd=chars');
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

  it('never prints a password from a bad value', () => {
    let message = '';
    try {
      // Malformed (no database), with a password in it; and a URL that is not one at all.
      parseConfig({
        DATABASE_URL: 'postgresql://app:hunter2-secret@db.internal:5432',
        BEANSTALK_API_URL: 'ftp//ops:s3cr3t-pw@host',
      });
    } catch (e) {
      message = (e as ConfigError).message;
    }
    expect(message).toMatch(/DATABASE_URL: must look like postgresql:/);
    expect(message).toMatch(/BEANSTALK_API_URL/);
    expect(message).toContain('***@db.internal:5432');
    expect(message).not.toMatch(/hunter2|s3cr3t|app:/);
    expect(redactUrl('postgresql://app:pw@127.0.0.1:5432/db')).toBe(
      'postgresql://app:***@127.0.0.1:5432/db',
    );
  });

  it('rejects an out-of-range port', () => {
    expect(() => parseConfig({ BEANSTALK_TEMPORAL_PORT: '70000' })).toThrow(
      /BEANSTALK_TEMPORAL_PORT: must be between 1 and 65535/,
    );
  });
});
