import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@beanstalk/db';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  createTestDatabase,
  seedIndexedFashionMnist,
  startPrivateServices,
  type PrivateServices,
  type TestDatabase,
} from '@beanstalk/testing';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const exec = promisify(execFile);

const cli = (args: string[], env: Record<string, string>) =>
  exec('npx', ['tsx', main, ...args], { env: { ...process.env, ...env } });

/** Every row of the tables that make up a project, in a stable order, as text. */
async function snapshot(db: Database): Promise<Record<string, string[]>> {
  const tables = {
    projects: 'id',
    label_classes: 'id',
    items: 'id',
    hidden_truth: 'item_id',
    labels: 'id',
    label_tasks: 'id',
    rounds: 'id',
    budget_events: 'id',
    encoder_versions: 'id',
    head_versions: 'id',
    item_features: 'item_id',
    item_vectors: 'head_version_id, item_id',
    predictions: 'head_version_id, item_id',
    metric_snapshots: 'id',
    users: 'id',
    memberships: 'user_id, project_id',
    label_versions: 'project_id',
    _prisma_migrations: 'migration_name',
  };
  const out: Record<string, string[]> = {};
  for (const [table, key] of Object.entries(tables)) {
    const { rows } = await db.pool.query(`SELECT t::text AS row FROM ${table} t ORDER BY ${key}`);
    out[table] = rows.map((r) => r.row as string);
  }
  return out;
}

describe('backup and restore', () => {
  let source: TestDatabase;
  let target: PrivateServices;
  let dir: string;
  let seeded: Awaited<ReturnType<typeof seedIndexedFashionMnist>>;
  beforeAll(async () => {
    source = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'backup-'));
    seeded = await seedIndexedFashionMnist(
      {
        db: source.db,
        blobs: new LocalBlobStore(path.join(dir, 'blobs')),
        modelsDir: path.join(dir, 'models'),
      },
      { limit: 200, labeled: 60, budget: 100 },
    );
    // A round with tasks, a person and a label of theirs, beside the seeded labels and vectors.
    const round = await source.db.rounds.open({ projectId: seeded.projectId, workflowId: 'r-1' });
    await source.db.tasks.openForRound({ roundId: round.id, headVersionId: null, count: 5 });
    await source.db.rounds.setStatus(round.id, 'LABELING');
    await source.db.users.create({ email: 'a@example.com', name: 'A', password: 'ten letters!' });
    const task = (await source.db.tasks.claimNext({
      projectId: seeded.projectId,
      annotatorId: null,
      leaseSeconds: 60,
    }))!;
    await source.db.tasks.submit({
      taskId: task.id,
      labelClassId: (await source.db.classes.ofProject(seeded.projectId))[1]!.id,
    });
    // An empty data folder: a cluster of its own, nothing migrated into it.
    target = await startPrivateServices({ migrate: false });
  });
  afterAll(async () => {
    await target?.close();
    await source?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('restores a project with labels, rounds and vectors into an empty data folder, equal', async () => {
    const out = path.join(dir, 'backup');
    await cli(['backup', '--out', out], {
      DATABASE_URL: source.url,
      BEANSTALK_BLOB_DIR: path.join(dir, 'blobs'),
    });
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.blobs.files).toBe(400 + 1); // 400 images and the encoder's ONNX file
    const restoredBlobs = path.join(dir, 'restored-blobs');
    await cli(['restore', '--from', out], {
      ...target.env,
      BEANSTALK_BLOB_DIR: restoredBlobs,
    });

    const restored = createDatabase(target.config.postgres.databaseUrl);
    try {
      const [before, after] = [await snapshot(source.db), await snapshot(restored)];
      for (const table of Object.keys(before)) {
        expect(after[table], table).toEqual(before[table]);
      }
      expect(before.item_vectors!.length).toBe(400);
      expect(before.labels!.length).toBe(61);
      // Every image is back, byte for byte.
      const [original, copy] = [path.join(dir, 'blobs'), restoredBlobs].map(
        (root) => new LocalBlobStore(root),
      );
      for (const item of seeded.items) {
        expect((await copy!.get(item.blobKey)).equals(await original!.get(item.blobKey))).toBe(
          true,
        );
      }
      // The restored vector set has its HNSW index and answers kNN.
      const probe = (
        await restored.vectorSets.vectorsOf(seeded.headVersionId, [seeded.items[0]!.id])
      ).get(seeded.items[0]!.id)!;
      const indexes = await restored.pool.query(
        `SELECT indexdef FROM pg_indexes WHERE tablename = $1`,
        [`item_vectors_${seeded.headVersionId.replaceAll('-', '')}`],
      );
      expect(indexes.rows.map((r) => r.indexdef).join('\n')).toMatch(/USING hnsw/);
      const found = await restored.knn.search({
        projectId: seeded.projectId,
        embedding: probe,
        k: 5,
      });
      expect(found[0]!.itemId).toBe(seeded.items[0]!.id);
    } finally {
      await restored.close();
    }
  });

  it('refuses to restore over a database that has data', async () => {
    const again = cli(['restore', '--from', path.join(dir, 'backup')], {
      ...target.env,
      BEANSTALK_BLOB_DIR: path.join(dir, 'restored-blobs'),
    });
    await expect(again).rejects.toMatchObject({
      stderr: expect.stringMatching(/needs an empty database/),
    });
  });

  it('never shows the database password, not even when a tool fails', async () => {
    const password = decodeURIComponent(new URL(target.config.postgres.databaseUrl).password);
    expect(password.length).toBeGreaterThan(10);
    // A backup into a folder that is not empty fails before pg_dump; one of a database that
    // does not exist fails in pg_dump.
    const missing = new URL(target.config.postgres.databaseUrl);
    missing.pathname = '/no_such_database';
    const failed = await cli(['backup', '--out', path.join(dir, 'nowhere')], {
      ...target.env,
      DATABASE_URL: missing.toString(),
    }).catch((error: { stdout: string; stderr: string }) => error);
    expect('stderr' in failed && failed.stderr).toMatch(/no_such_database/);
    expect(JSON.stringify(failed)).not.toContain(password);
    const status = await cli(['services', 'status'], target.env).catch(
      (error: { stdout: string }) => error,
    );
    expect(status.stdout).toMatch(/DATABASE_URL=postgresql:\/\/beanstalk_app:\*\*\*@/);
    expect(status.stdout).not.toContain(password);
  });
});
