import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@beanstalk/testing';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const exec = promisify(execFile);

function cli(args: string[], env: Record<string, string> = {}) {
  return exec('npx', ['tsx', main, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      out: e.stdout + e.stderr,
    }),
  );
}

describe('beanstalk CLI', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'cli-'));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports healthy services with their URLs', async () => {
    const { code, out } = await cli(['services', 'status']);
    expect(code).toBe(0);
    expect(out).toMatch(/postgres: running \(Postgres 15\.\d+.*pgvector 0\.8\.0\)/);
    expect(out).toMatch(/temporal: running \(SERVING\)/);
    expect(out).toMatch(/DATABASE_URL=postgresql:\/\//);
  });

  it('imports a folder, naming the file it could not read', async () => {
    const images = path.join(dir, 'images');
    await mkdir(path.join(images, 'ok'), { recursive: true });
    for (const i of [1, 2]) {
      const raw = Buffer.alloc(8 * 8 * 3, i * 40);
      await writeFile(
        path.join(images, 'ok', `${i}.png`),
        await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }
    await writeFile(path.join(images, 'ok', 'broken.png'), Buffer.from('definitely not a png'));
    const env = { DATABASE_URL: db.url, BEANSTALK_BLOB_DIR: path.join(dir, 'blobs') };
    const first = await cli(
      ['import', 'folder', images, '--project', 'cli-parts', '--labels', 'folders'],
      env,
    );
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/imported 2, already present 0, failed 1 \(of 3;/);
    expect(first.out).toMatch(/! ok\/broken\.png: cannot decode image/);
    const again = await cli(['import', 'folder', images, '--project', 'cli-parts'], env);
    expect(again.out).toMatch(/imported 0, already present 2, failed 1/);
    expect(await db.prisma.item.count()).toBe(2);
  });

  it('stops with a message naming a malformed variable', async () => {
    const { code, out } = await cli(['services', 'status'], { BEANSTALK_PG_PORT: 'five' });
    expect(code).toBe(1);
    expect(out).toMatch(
      /Invalid configuration:\n\s+- BEANSTALK_PG_PORT: must be a port number \(got "five"\)/,
    );
  });
});
