import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../../scripts/lib/demo-password.sh', import.meta.url));
const exec = promisify(execFile);

/** What `npm run demo` gets for a data folder: the password and how it tells people. */
async function demoPassword(dataDir: string, env: Record<string, string> = {}) {
  const { stdout } = await exec('bash', [script, dataDir], {
    env: { PATH: process.env.PATH!, ...env },
  });
  const [password, note] = stdout.split('\n');
  return { password: password!, note: note! };
}

describe('the demo password', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'demo-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is generated per data folder, readable by its owner only, and shown once', async () => {
    const first = await demoPassword(path.join(dir, 'a'));
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(first.note).toContain(first.password);
    const file = path.join(dir, 'a', 'demo-password');
    expect((await readFile(file, 'utf8')).trim()).toBe(first.password);
    expect((await stat(file)).mode & 0o077).toBe(0);
    const again = await demoPassword(path.join(dir, 'a'));
    expect(again.password).toBe(first.password);
    expect(again.note).not.toContain(first.password);
    expect(again.note).toContain(file);
    const elsewhere = await demoPassword(path.join(dir, 'b'));
    expect(elsewhere.password).not.toBe(first.password);
  });

  it('is the one set in DEMO_PASSWORD when there is one, and nothing is written', async () => {
    const set = await demoPassword(path.join(dir, 'c'), { DEMO_PASSWORD: 'my own choice' });
    expect(set).toEqual({ password: 'my own choice', note: 'from DEMO_PASSWORD' });
    await expect(stat(path.join(dir, 'c', 'demo-password'))).rejects.toThrow();
  });
});
