// One place that brings up what the API tests share: a database of their own, the real HTTP
// server on a free port (against the real Temporal server, on task queues of its own), users
// of every role, and helpers that call it the way clients do (JSON and multipart over HTTP).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '@beanstalk/config';
import { LocalBlobStore } from '@beanstalk/storage';
import { createTestDatabase, seedIndexedFashionMnist, signIn } from '@beanstalk/testing';
import { createHttpApp } from '../src/http.ts';
import { createServices } from '../src/services.ts';

export type Api = Awaited<ReturnType<typeof startApi>>;
export type Caller = { cookie?: string; apiKey?: string } | null;

export interface GqlResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
}

export const PASSWORD = 'correct horse battery';

export async function startApi(options: { config?: (c: Config) => Config } = {}) {
  const base = loadConfig();
  const db = await createTestDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'beanstalk-api-'));
  const config = (options.config ?? ((c) => c))({
    ...base,
    dataDir: dir,
    blobDir: path.join(dir, 'blobs'),
    api: { ...base.api, rateLimitPerSecond: 100_000 },
  });
  const blobs = new LocalBlobStore(config.blobDir);
  const id = randomUUID().slice(0, 8);
  const services = createServices(config, {
    db: db.db,
    queues: {
      orchestration: `api-test-orch-${id}`,
      gpu: `api-test-gpu-${id}`,
      train: `api-test-train-${id}`,
    },
  });
  const { server, apollo, subscribe } = await createHttpApp(services);
  server.listen(0, '127.0.0.1');
  // Credentials of open sockets are checked every half second, so tests see a sign-out close one.
  const subscriptions = subscribe({ recheckMs: 500 });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

  const headersOf = (as: Caller): Record<string, string> => ({
    ...(as?.cookie ? { cookie: as.cookie } : {}),
    ...(as?.apiKey ? { authorization: `Bearer ${as.apiKey}` } : {}),
  });

  /** A GraphQL operation as JSON over HTTP (with more headers, as a proxy would send). */
  async function gql<T = Record<string, any>>(
    as: Caller,
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<GqlResponse<T>> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headersOf(as), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as object) };
  }

  /** A GraphQL operation with files, as a multipart request (the upload spec). */
  async function upload<T = Record<string, any>>(
    as: Caller,
    query: string,
    variables: Record<string, unknown>,
    files: Record<string, { name: string; bytes: Uint8Array; type?: string }>,
  ): Promise<GqlResponse<T>> {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query, variables }));
    const names = Object.keys(files);
    form.append(
      'map',
      JSON.stringify(Object.fromEntries(names.map((p, i) => [String(i), [`variables.${p}`]]))),
    );
    names.forEach((p, i) => {
      const f = files[p]!;
      form.append(String(i), new Blob([f.bytes], { type: f.type ?? 'image/png' }), f.name);
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'apollo-require-preflight': 'true', ...headersOf(as) },
      body: form,
    });
    return { status: response.status, ...((await response.json()) as object) };
  }

  /** Expects no errors and returns data. */
  async function ok<T = Record<string, any>>(
    as: Caller,
    query: string,
    variables: Record<string, unknown> = {},
  ) {
    const r = await gql<T>(as, query, variables);
    if (r.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data as T;
  }

  /** Creates a user and signs in through the login mutation; returns its cookie. */
  async function user(
    email: string,
    options: {
      isAdmin?: boolean;
      projectId?: string;
      role?: 'ADMIN' | 'MANAGER' | 'ANNOTATOR';
    } = {},
  ) {
    const created = await db.db.users.create({
      email,
      name: email.split('@')[0]!,
      password: PASSWORD,
      isAdmin: options.isAdmin ?? false,
    });
    if (options.projectId && options.role) {
      await db.db.users.setMembership({
        projectId: options.projectId,
        email,
        role: options.role,
      });
    }
    return { id: created.id, cookie: await signIn(url, email, PASSWORD) };
  }

  /** An indexed Fashion-MNIST project (see seedIndexedFashionMnist). */
  function seedProject(options: {
    limit: number;
    labeled: number;
    budget?: number;
    slug?: string;
  }) {
    return seedIndexedFashionMnist(
      { db: db.db, blobs, modelsDir: path.join(dir, 'models') },
      { budget: 1000, ...options },
    );
  }

  /**
   * A copy of a head (same weights, same vectors), published but not promoted: a second model
   * version to promote and roll back between.
   */
  async function copyHead(headVersionId: string): Promise<string> {
    const repos = db.db;
    const head = await repos.heads.get(headVersionId);
    const copy = await repos.heads.create({
      projectId: head.projectId,
      encoderVersionId: head.encoderVersionId,
      kind: head.kind,
      inputDims: head.inputDims,
      outputDims: head.outputDims,
      weights: head.weights,
      config: head.config as object,
    });
    await repos.vectorSets.create(copy.id);
    const rows = await repos.vectorSets.readPage({ headVersionId, splits: ['POOL', 'EVAL'] });
    await repos.vectorSets.upsert(
      copy.id,
      rows.map((r) => ({ itemId: r.itemId, embedding: r.vector })),
    );
    await repos.vectorSets.publish(copy.id);
    return copy.id;
  }

  return {
    url,
    db,
    copyHead,
    blobs,
    services,
    gql,
    upload,
    ok,
    user,
    seedProject,
    async stop() {
      await subscriptions.close();
      server.closeAllConnections();
      server.close();
      await apollo.stop();
      await services.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The error codes of a response (empty when it succeeded). */
export const codes = (r: GqlResponse) => (r.errors ?? []).map((e) => e.extensions?.code);
