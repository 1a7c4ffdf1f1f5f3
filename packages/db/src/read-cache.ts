import { ChangeListener, type ChangeChannel } from './changes.ts';
import type { Database } from './database.ts';
import type { ApiKey, LabelClass, Project } from './generated/prisma/client.ts';

/** What the triggers of migration 20261214000000_cached_reads announce. */
type CachedChange = { kind: 'apiKey' | 'project'; id: string };

const CACHED_READS: ChangeChannel<CachedChange> = {
  name: 'beanstalk_cached_reads',
  label: 'cached reads',
  parse(payload) {
    try {
      const value = JSON.parse(payload ?? '') as Partial<CachedChange>;
      const known = value.kind === 'apiKey' || value.kind === 'project';
      return known && typeof value.id === 'string' ? (value as CachedChange) : null;
    } catch {
      return null;
    }
  },
};

/**
 * How long an entry is trusted at most: a backstop should an announcement be lost without the
 * connection breaking (a broken one empties the cache at once).
 */
const CACHED_READ_MAX_AGE_MS = 10_000;

/** Entries kept at most (only rows that exist are kept: unknown keys and slugs are not). */
const MAX_ENTRIES = 10_000;

interface Entry {
  value: unknown;
  /** The key or project whose change drops it. */
  owner: string;
  at: number;
}

/**
 * The reads every classification makes (the caller's API key, the project by slug, its classes
 * and its label version), answered from memory while this process listens for their changes,
 * so a request costs no database round trip for them. Whatever changes them (a revoked key, a
 * promoted head, a new label, a renamed class, from any process) is announced by a trigger and
 * drops the entries it touches; an answer is at most the announcement's delay behind (a few
 * milliseconds), or CACHED_READ_MAX_AGE_MS should one be lost. While not listening (before
 * `start`, during a database restart) every read goes to the database.
 */
export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  private listener: ChangeListener<CachedChange> | null = null;
  /**
   * Moves with every change heard (and every return from a break): a read started before a
   * change must not be kept after it, even when its answer arrives later.
   */
  private epoch = 0;

  constructor(private readonly db: Database) {}

  /** Starts listening; until it does, reads go to the database. */
  async start(): Promise<void> {
    this.listener = new ChangeListener(this.db.pool, CACHED_READS, {
      change: ({ kind, id }) => this.forget(`${kind}:${id}`),
      // Back after a break (while it lasted, reads went to the database): what was kept
      // before it may have changed unannounced.
      resync: () => {
        this.epoch++;
        this.entries.clear();
      },
    });
    await this.listener.start();
  }

  /** Whether reads are being answered from memory now. */
  get active(): boolean {
    return this.listener?.listening ?? false;
  }

  apiKeyByHash(keyHash: string): Promise<ApiKey | null> {
    return this.read(
      `key:${keyHash}`,
      () => this.db.users.apiKeyByHash(keyHash),
      (key) => (key ? `apiKey:${key.id}` : null),
    );
  }

  projectBySlug(slug: string): Promise<Project | null> {
    return this.read(
      `slug:${slug}`,
      () => this.db.projects.bySlug(slug),
      (project) => (project ? `project:${project.id}` : null),
    );
  }

  labelVersion(projectId: string): Promise<number> {
    return this.read(
      `version:${projectId}`,
      () => this.db.labels.version(projectId),
      () => `project:${projectId}`,
    );
  }

  classesOf(projectId: string): Promise<LabelClass[]> {
    return this.read(
      `classes:${projectId}`,
      () => this.db.classes.ofProject(projectId),
      () => `project:${projectId}`,
    );
  }

  /**
   * Drops what this process knows it just changed (a key it revoked), so its own next request
   * does not wait for the announcement.
   */
  forgetApiKey(id: string): void {
    this.forget(`apiKey:${id}`);
  }

  private forget(owner: string): void {
    this.epoch++;
    for (const [key, entry] of this.entries) {
      if (entry.owner === owner) this.entries.delete(key);
    }
  }

  /** Entries are shared between requests: callers must not change what they are given. */
  private async read<T>(
    key: string,
    load: () => Promise<T>,
    ownerOf: (value: T) => string | null,
  ): Promise<T> {
    const now = Date.now();
    if (this.active) {
      const entry = this.entries.get(key);
      if (entry && now - entry.at < CACHED_READ_MAX_AGE_MS) return entry.value as T;
    }
    const epoch = this.epoch;
    const value = await load();
    const owner = ownerOf(value);
    if (owner && this.active && epoch === this.epoch) {
      this.entries.delete(key);
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, owner, at: now });
    }
    return value;
  }

  async close(): Promise<void> {
    await this.listener?.close();
    this.listener = null;
    this.entries.clear();
  }
}
