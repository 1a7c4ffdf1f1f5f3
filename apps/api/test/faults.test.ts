// The API process, as deployed, against a Postgres and a Temporal of this file's own, stopped
// and started under it.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@beanstalk/db';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  freePort,
  seedFashionMnist,
  signIn,
  startPrivateServices,
  startProcess,
  type PrivateServices,
} from '@beanstalk/testing';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A workspace's process, started as deployed; resolves once it prints `ready`. */
const start = (cwd: string, args: string[], env: Record<string, string>, ready: string) =>
  startProcess({ name: cwd, cwd: path.join(root, cwd), args, env, ready });

describe('the API through Postgres and Temporal outages', () => {
  let svc: PrivateServices;
  let db: Database;
  let api: ChildProcess;
  const workers: ChildProcess[] = [];
  let url: string;
  let cookie: string;
  let projectId: string;
  let blobs: LocalBlobStore;

  const gql = async (query: string, as: 'signed-in' | 'anonymous' = 'signed-in') => {
    const started = Date.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(as === 'signed-in' ? { cookie } : {}) },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as {
      data?: Record<string, any> | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
    return { status: response.status, ms: Date.now() - started, ...body };
  };

  beforeAll(async () => {
    svc = await startPrivateServices();
    db = createDatabase(svc.config.postgres.databaseUrl);
    blobs = new LocalBlobStore(svc.config.blobDir);
    ({ projectId } = await seedFashionMnist(
      { db, blobs },
      { limit: 30, budget: 100, slug: 'outages' },
    ));
    await db.users.create({ email: 'm@example.com', name: 'M', password: 'correct horse battery' });
    await db.users.setMembership({ projectId, email: 'm@example.com', role: 'MANAGER' });
    const port = await freePort();
    url = `http://127.0.0.1:${port}/graphql`;
    api = await start(
      'apps/api',
      ['src/index.ts'],
      { ...svc.env, BEANSTALK_API_PORT: String(port) },
      'GraphQL at',
    );
    cookie = await signIn(url, 'm@example.com', 'correct horse battery');
  });
  afterAll(async () => {
    api?.kill('SIGKILL');
    for (const w of workers) w.kill('SIGKILL');
    await db?.close();
    await svc?.close();
  });

  it('Postgres restarted: requests meanwhile fail fast as UNAVAILABLE, then succeed; the process stays up', async () => {
    expect((await gql('{ projects { slug } }')).data?.projects).toEqual([{ slug: 'outages' }]);
    await svc.stopPostgres();
    try {
      for (const query of ['{ projects { slug } }', '{ viewer { user { email } } }']) {
        const away = await gql(query);
        expect(away.errors?.[0]?.extensions).toMatchObject({
          code: 'UNAVAILABLE',
          retryable: true,
        });
        expect(away.status).toBe(503);
        expect(away.ms).toBeLessThan(6000);
      }
      // Anonymous health still answers, and says what is missing.
      const health = await gql('{ health { ok database } }', 'anonymous');
      expect(health.data?.health.ok).toBe(false);
      expect(health.data?.health.database).toMatch(/^unreachable/);
    } finally {
      await svc.startPostgres();
    }
    expect((await gql('{ projects { slug } }')).data?.projects).toEqual([{ slug: 'outages' }]);
    expect(api.exitCode).toBeNull();
  });

  it('Temporal away: images are stored and labels kept; a worker embeds the images once it is back', async () => {
    // A round (its workflow id names no running workflow) with one open task.
    const round = await db.prisma.round.create({
      data: {
        projectId,
        number: 1,
        status: 'LABELING',
        workflowId: 'round-outages-gone',
        budgetAsked: 1,
      },
    });
    const items = await db.items.forExport(projectId, ['POOL']);
    const task = await db.prisma.labelTask.create({
      data: { projectId, roundId: round.id, itemId: items[0]!.id },
    });
    const classId = (await db.classes.ofProject(projectId))[0]!.id;
    await svc.stopTemporal();
    let imported: any;
    try {
      const form = new FormData();
      form.append(
        'operations',
        JSON.stringify({
          query:
            'mutation ($f: [Upload!]!) { importItems(project: "outages", files: $f) { imported ingestWorkflowId } }',
          variables: { f: [null, null] },
        }),
      );
      form.append('map', JSON.stringify({ 0: ['variables.f.0'], 1: ['variables.f.1'] }));
      const testItems = await db.items.forExport(projectId, ['EVAL']);
      for (const [i, item] of testItems.slice(0, 2).entries()) {
        // New images: an eval image turned upside down is a different file.
        const bytes = await blobs.get(item.blobKey);
        const sharp = (await import('sharp')).default;
        const flipped = await sharp(bytes).flip().png().toBuffer();
        form.append(String(i), new Blob([flipped], { type: 'image/png' }), `new-${i}.png`);
      }
      const response = await fetch(url, {
        method: 'POST',
        headers: { cookie, 'apollo-require-preflight': '1' },
        body: form,
      });
      imported = await response.json();
      const claimed = await gql(`mutation { claimNextTask(project: "outages") { id } }`);
      expect(claimed.data?.claimNextTask.id).toBe(task.id);
      const submitted = await gql(
        `mutation { submitLabel(taskId: "${task.id}", labelClassId: "${classId}") { duplicate task { status } } }`,
      );
      expect(submitted.errors).toBeUndefined();
      expect(submitted.data?.submitLabel).toEqual({ duplicate: false, task: { status: 'DONE' } });
    } finally {
      await svc.startTemporal();
    }
    expect(imported.errors).toBeUndefined();
    expect(imported.data.importItems).toEqual({ imported: 2, ingestWorkflowId: null });
    const encoderVersionId = (await db.projects.get(projectId)).encoderVersionId!;
    expect(await db.items.countWithoutFeatures(projectId, encoderVersionId)).toBe(62);
    // A worker's maintenance pass starts the ingest the import could not.
    workers.push(
      await start(
        'apps/worker',
        ['src/main.ts', '--queue', 'all'],
        { ...svc.env, BEANSTALK_MAINTENANCE_SECONDS: '1' },
        'worker:',
      ),
    );
    for (
      let i = 0;
      i < 300 && (await db.items.countWithoutFeatures(projectId, encoderVersionId));
      i++
    ) {
      await sleep(200);
    }
    expect(await db.items.countWithoutFeatures(projectId, encoderVersionId)).toBe(0);
    expect(api.exitCode).toBeNull();
  });
});
