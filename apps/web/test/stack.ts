// One place that brings up the running stack the browser tests drive: a database of their
// own seeded with an indexed Fashion-MNIST project, people of each role, an open round, the
// real API process and the built web app (next start) in front of it, and Debian's Chromium.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { loadConfig } from '@beanstalk/config';
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  grayToPng,
  importFashionMnist,
  readIdx,
} from '@beanstalk/ingest';
import { LocalBlobStore } from '@beanstalk/storage';
import {
  createTestDatabase,
  freePort,
  seedIndexedFashionMnist,
  signIn as apiSignIn,
  startProcess,
} from '@beanstalk/testing';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.resolve(WEB, '../..');
export const PASSWORD = 'correct horse battery';
export const SCREENSHOTS = path.join(WEB, 'test-results', 'screenshots');

export async function startStack() {
  const db = await createTestDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-web-'));
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const slug = 'fashion-e2e';
  const seeded = await seedIndexedFashionMnist(
    { db: db.db, blobs, modelsDir: path.join(dir, 'models') },
    { limit: 300, labeled: 150, budget: 500, slug },
  );
  await db.db.projects.update(seeded.projectId, { targetMacroF1: 0.8 });
  const people = {} as Record<'annotator' | 'manager' | 'outsider', string>;
  for (const role of ['annotator', 'manager'] as const) {
    const email = `${role}@example.com`;
    await db.db.users.create({ email, name: `Test ${role}`, password: PASSWORD });
    await db.db.users.setMembership({
      projectId: seeded.projectId,
      email,
      role: role.toUpperCase() as 'ANNOTATOR' | 'MANAGER',
    });
    people[role] = email;
  }
  // Someone with an account but no role in the project.
  await db.db.users.create({
    email: 'outsider@example.com',
    name: 'Outsider',
    password: PASSWORD,
  });
  people.outsider = 'outsider@example.com';
  // An open round of 20 tasks on unlabeled pool images, and two evaluated rounds before it.
  const pool = seeded.items.filter((i) => i.split === 'POOL');
  for (const [number, macroF1, humanLabels] of [
    [1, 0.58, 50],
    [2, 0.66, 100],
  ] as const) {
    const round = await db.prisma.round.create({
      data: {
        projectId: seeded.projectId,
        number,
        status: 'COMPLETED',
        endedAt: new Date(),
        budgetAsked: 50,
        labelsReceived: 50,
      },
    });
    const classes = await db.prisma.labelClass.findMany({
      where: { projectId: seeded.projectId },
      orderBy: { position: 'asc' },
    });
    await db.prisma.metricSnapshot.create({
      data: {
        projectId: seeded.projectId,
        roundId: round.id,
        humanLabels,
        macroF1,
        microF1: macroF1,
        accuracy: macroF1 + 0.02,
        details: {
          // The first round had too few eval labels from people: a simulated figure.
          truth: number === 1 ? 'simulated' : 'human',
          evaluated: number === 1 ? 300 : 60,
          perClass: classes.map(() => ({
            precision: macroF1,
            recall: macroF1,
            f1: macroF1,
            support: 20,
          })),
          confusion: classes.map((_, i) =>
            classes.map((__, j) => (i === j ? 15 : i === (j + 1) % classes.length ? 5 : 0)),
          ),
        },
      },
    });
  }
  // Human labels on predicted items: the held-out set the precision preview reads. The first
  // 60 in import order (item ids are random; the images and so the predictions are not).
  const predicted = (
    await db.db.predictions.ofPairs(
      pool.map((item) => ({ headVersionId: seeded.headVersionId, itemId: item.id })),
    )
  )
    .sort(
      (a, b) => pool.findIndex((i) => i.id === a.itemId) - pool.findIndex((i) => i.id === b.itemId),
    )
    .slice(0, 60);
  const truth = new Map(seeded.items.map((i) => [i.id, i.hiddenClassId!]));
  for (const p of predicted) {
    await db.prisma.label.create({
      data: {
        projectId: seeded.projectId,
        itemId: p.itemId,
        labelClassId: truth.get(p.itemId)!,
        source: 'HUMAN',
      },
    });
  }
  const open = await db.prisma.round.create({
    data: { projectId: seeded.projectId, number: 3, status: 'LABELING', budgetAsked: 20 },
  });
  const labeledIds = new Set([
    ...seeded.labeled.map((i) => i.id),
    ...predicted.map((p) => p.itemId),
  ]);
  const taskItems = pool.filter((i) => !labeledIds.has(i.id)).slice(0, 20);
  await db.prisma.labelTask.createMany({
    data: taskItems.map((item, i) => ({
      projectId: seeded.projectId,
      roundId: open.id,
      itemId: item.id,
      priority: 100 - i,
    })),
  });

  const apiPort = await freePort();
  const webPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}/graphql`;
  const env = {
    DATABASE_URL: db.url,
    BEANSTALK_BLOB_DIR: path.join(dir, 'blobs'),
    BEANSTALK_API_PORT: String(apiPort),
    BEANSTALK_API_URL: apiUrl,
    BEANSTALK_WEB_PORT: String(webPort),
    NEXT_TELEMETRY_DISABLED: '1',
    // The tests' webhook receiver listens on loopback.
    BEANSTALK_WEBHOOK_ALLOW_PRIVATE: 'true',
  };
  const processes: ChildProcess[] = [];
  processes.push(
    await startProcess({
      name: 'api',
      cwd: path.join(ROOT, 'apps/api'),
      args: ['src/index.ts'],
      env,
      ready: /GraphQL at/,
    }),
  );
  execFileSync(path.join(ROOT, 'node_modules/.bin/next'), ['build'], {
    cwd: WEB,
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  processes.push(
    await startProcess({ name: 'web', cwd: WEB, args: ['server.ts'], env, ready: /web: ready on/ }),
  );
  const browser: Browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  /** A signed-in page for one person (through the login form). */
  async function signIn(email: string, viewport = { width: 1366, height: 768 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${webPort}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`http://127.0.0.1:${webPort}/`);
    return page;
  }

  /** A GraphQL call straight to the API as one person (for checks the browser does not show). */
  async function apiAs<T = any>(
    email: string,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    const cookie = await apiSignIn(apiUrl, email, PASSWORD);
    const response = await fetch(apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  /**
   * A subscription through the web app's socket proxy, as a page of the site opens it (its
   * Origin, one person's session cookie); collects the data it receives.
   */
  async function subscribeAs(email: string, query: string, origin = `http://127.0.0.1:${webPort}`) {
    const cookie = await apiSignIn(apiUrl, email, PASSWORD);
    const received: Record<string, any>[] = [];
    const errors: unknown[] = [];
    const client = createClient({
      url: `ws://127.0.0.1:${webPort}/api/graphql`,
      retryAttempts: 0,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols: string[]) {
          super(url, protocols, { headers: { cookie, origin } });
        }
      },
    });
    const stop = client.subscribe(
      { query },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors);
          if (result.data) received.push(result.data);
        },
        error: (error) => errors.push(error),
        complete: () => undefined,
      },
    );
    return {
      received,
      errors,
      async stop() {
        stop();
        await client.dispose();
      },
    };
  }

  /**
   * The Temporal workers as deployed (orchestration, gpu and the Python training worker, on
   * the default queues the API process uses), for tests that run workflows. No maintenance
   * pass: it would close the seeded rounds, which have no workflows.
   */
  async function startWorkers() {
    const workerEnv = {
      ...env,
      BEANSTALK_DATA_DIR: dir,
      BEANSTALK_TRAINER_PYTHON: loadConfig().trainer.python,
      BEANSTALK_TRAINER_THREADS: '2',
      BEANSTALK_MAINTENANCE_SECONDS: '0',
    };
    for (const [queue, ready] of [
      ['orchestration', 'worker:'],
      ['gpu', 'worker:'],
      ['train', 'polling'],
    ] as const) {
      processes.push(
        await startProcess({
          name: `worker --queue ${queue}`,
          cwd: path.join(ROOT, 'apps/worker'),
          args: ['src/main.ts', '--queue', queue],
          env: workerEnv,
          ready,
        }),
      );
    }
  }

  /** A project with `images` Fashion-MNIST pool images and no encoder; `manager` manages it. */
  async function newProject(slug: string, images: number) {
    await importFashionMnist({ db: db.db, blobs }, { slug, limit: images });
    const project = (await db.db.projects.bySlug(slug))!;
    await db.db.users.setMembership({
      projectId: project.id,
      email: people.manager,
      role: 'MANAGER',
    });
    return project.id;
  }

  return {
    web: `http://127.0.0.1:${webPort}`,
    api: apiUrl,
    /** The web server's process id (to read its memory). */
    webPid: processes[1]!.pid!,
    slug,
    seeded,
    people,
    db,
    browser,
    signIn,
    apiAs,
    subscribeAs,
    startWorkers,
    newProject,
    imageFolders: () => writeImageFolders(path.join(dir, 'folders')),
    /** A folder of `count` distinct tiny PNGs (for what a large folder does to the page). */
    async largeFolder(count: number) {
      const folder = path.join(dir, 'large');
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < count; i++) {
        const pixels = new Uint8Array(64).map((_, j) => ((i >> (j % 16)) & 1 ? 255 : j));
        await writeFile(path.join(folder, `${i}.png`), grayToPng(pixels, 8, 8));
      }
      return folder;
    },
    async stop() {
      await browser.close();
      for (const p of processes) p.kill('SIGTERM');
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The three classes of the onboarding folders, as folder names. */
export const FOLDER_CLASSES = ['trouser', 'bag', 'sneaker'] as const;

/**
 * Folders as a new team would have them, from Fashion-MNIST trousers, bags and sneakers:
 * `pool/` with 290 unlabeled PNGs and 10 truncated ones (300 files), and `eval/<class>/` with
 * 10 test images per class. The first images of each class, so every run is the same.
 */
async function writeImageFolders(root: string) {
  const read = async (part: 'train' | 't10k') => {
    const [images, labels] = await Promise.all([
      readIdx(path.join(FASHION_MNIST_DIR, `${part}-images-idx3-ubyte.gz`)),
      readIdx(path.join(FASHION_MNIST_DIR, `${part}-labels-idx1-ubyte.gz`)),
    ]);
    return (cls: string, count: number) => {
      const wanted = FASHION_MNIST_CLASSES.indexOf(
        { trouser: 'Trouser', bag: 'Bag', sneaker: 'Sneaker' }[cls]!,
      );
      const out: Buffer[] = [];
      for (let i = 0; i < labels.data.length && out.length < count; i++) {
        if (labels.data[i] !== wanted) continue;
        out.push(Buffer.from(grayToPng(images.data.subarray(i * 784, (i + 1) * 784), 28, 28)));
      }
      return out;
    };
  };
  const train = await read('train');
  const pool = path.join(root, 'pool');
  await mkdir(pool, { recursive: true });
  let n = 0;
  for (const [i, cls] of FOLDER_CLASSES.entries()) {
    for (const png of train(cls, i === 0 ? 96 : 97)) {
      await writeFile(path.join(pool, `part-${String(n++).padStart(4, '0')}.png`), png);
    }
  }
  const sample = train('bag', 1)[0]!;
  for (let i = 0; i < 10; i++) {
    // Cut off inside the image data: a PNG that cannot be decoded.
    await writeFile(path.join(pool, `broken-${i}.png`), sample.subarray(0, 60 + i * 5));
  }
  const test = await read('t10k');
  for (const cls of FOLDER_CLASSES) {
    const folder = path.join(root, 'eval', cls);
    await mkdir(folder, { recursive: true });
    for (const [i, png] of test(cls, 10).entries()) {
      await writeFile(path.join(folder, `${cls}-${i}.png`), png);
    }
  }
  return { pool, eval: path.join(root, 'eval'), poolImages: n, broken: 10 };
}
