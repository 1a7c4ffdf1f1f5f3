import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../../scripts/lib/debian-mirror.sh', import.meta.url));
const exec = promisify(execFile);

/** The mirror the system-deps script would fetch pgvector's source from, for an apt folder. */
const mirrorFor = (apt: string, env: Record<string, string> = {}) =>
  exec('bash', [script, apt], { env: { PATH: process.env.PATH!, ...env } }).then(
    (r) => ({ code: 0, out: r.stdout.trim() }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout.trim() }),
  );

describe('system dependencies come from the machine’s own apt mirror', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apt-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the main archive of a deb822 sources file, not the security archive', async () => {
    const apt = path.join(dir, 'deb822');
    await mkdir(path.join(apt, 'sources.list.d'), { recursive: true });
    await writeFile(
      path.join(apt, 'sources.list.d', 'debian.sources'),
      [
        'Types: deb',
        'URIs: http://mirror.example.org/debian-security',
        'Suites: bookworm-security',
        '',
        'Types: deb',
        'URIs: https://mirror.example.org/debian/',
        'Suites: bookworm bookworm-updates',
      ].join('\n'),
    );
    expect(await mirrorFor(apt)).toEqual({ code: 0, out: 'https://mirror.example.org/debian' });
  });

  it('reads a one-line sources.list, options and all', async () => {
    const apt = path.join(dir, 'classic');
    await mkdir(apt, { recursive: true });
    await writeFile(
      path.join(apt, 'sources.list'),
      'deb [signed-by=/k.gpg] http://ftp.example.net/debian bookworm main\n',
    );
    expect(await mirrorFor(apt)).toEqual({ code: 0, out: 'http://ftp.example.net/debian' });
  });

  it('fails when the machine names no Debian archive, unless DEBIAN_MIRROR says one', async () => {
    const apt = path.join(dir, 'empty');
    await mkdir(apt, { recursive: true });
    expect((await mirrorFor(apt)).code).toBe(1);
    expect(await mirrorFor(apt, { DEBIAN_MIRROR: 'http://local/debian' })).toEqual({
      code: 0,
      out: 'http://local/debian',
    });
  });
});
