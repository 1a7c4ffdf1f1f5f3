import type pg from 'pg';

/**
 * What a trigger announced: which round, campaign or project budget changed. A round's or
 * campaign's payload carries the status it changed to (absent when a round's tasks changed);
 * everything else is read by whoever listens.
 */
export type LiveChange =
  | { kind: 'round'; projectId: string; id: string; status?: string }
  | { kind: 'campaign'; projectId: string; id: string; status: string }
  | { kind: 'budget'; projectId: string };

export interface ChangeHandlers<T = LiveChange> {
  change(change: T): void;
  /**
   * The connection came back after a break: announcements made meanwhile are lost, so
   * listeners read the current state again.
   */
  resync(): void;
}

/** A channel and how to read its payloads (null for one to ignore). */
export interface ChangeChannel<T> {
  name: string;
  /** What the logs call it. */
  label: string;
  parse(payload: string | undefined): T | null;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

function parseLive(payload: string | undefined): LiveChange | null {
  try {
    const value = JSON.parse(payload ?? '') as Partial<LiveChange>;
    const known = value.kind === 'round' || value.kind === 'campaign' || value.kind === 'budget';
    return known && typeof value.projectId === 'string' ? (value as LiveChange) : null;
  } catch {
    return null;
  }
}

/** The channel the live-change triggers announce on (migration 20261205000000_live_changes). */
export const LIVE_CHANGES: ChangeChannel<LiveChange> = {
  name: 'beanstalk_changes',
  label: 'live changes',
  parse: parseLive,
};

/**
 * Listens on a channel on a connection of its own, taken from the
 * pool for as long as it listens. When the database goes away (a restart) it connects again
 * with backoff, and says so (`resync`), instead of failing the process.
 */
export class ChangeListener<T> {
  private client: pg.PoolClient | null = null;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = RETRY_MIN_MS;
  private broken = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: ChangeChannel<T>,
    private readonly handlers: ChangeHandlers<T>,
  ) {}

  /** Whether announcements reach it now. */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Starts listening; resolves once listening or once the first attempt failed (it retries). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    let client: pg.PoolClient | null = null;
    try {
      client = await this.pool.connect();
      const listening = client;
      const lost = (error?: Error) => this.lost(listening, error);
      client.on('notification', (message) => {
        const change =
          message.channel === this.channel.name ? this.channel.parse(message.payload) : null;
        if (change) this.handlers.change(change);
      });
      client.on('error', lost);
      client.on('end', () => lost());
      await client.query(`LISTEN ${this.channel.name}`);
      if (this.closed) return this.release(client);
      this.client = client;
      this.retryMs = RETRY_MIN_MS;
      if (this.broken) {
        this.broken = false;
        console.error(`${this.channel.label}: listening again`);
        this.handlers.resync();
      }
    } catch (error) {
      if (client) this.release(client, error as Error);
      this.retry(error as Error);
    }
  }

  private lost(client: pg.PoolClient, error?: Error) {
    if (this.client !== client) return;
    this.client = null;
    this.release(client, error ?? new Error('connection ended'));
    this.retry(error);
  }

  private retry(error?: Error) {
    if (this.closed || this.timer) return;
    if (!this.broken) {
      console.error(
        `${this.channel.label}: not listening (${error?.message ?? 'connection lost'}); retrying`,
      );
    }
    this.broken = true;
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private release(client: pg.PoolClient, error?: Error) {
    client.removeAllListeners('notification');
    // A broken connection is destroyed, not returned to the pool.
    client.on('error', () => undefined);
    try {
      client.release(error ?? false);
    } catch {
      // Already released.
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    if (client) {
      await client.query(`UNLISTEN ${this.channel.name}`).catch(() => undefined);
      this.release(client);
    }
  }
}
