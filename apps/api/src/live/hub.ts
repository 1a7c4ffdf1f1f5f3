import type { ChangeListener, Database, LiveChange } from '@beanstalk/db';

/** A change for one subscriber, or word that it should read the current state again. */
export type HubEvent = LiveChange | { kind: 'resync'; projectId: string } | { kind: 'tick' };

/** Events one slow subscriber may have waiting; past that it is told to read the state anew. */
const MAX_QUEUED = 256;

/**
 * One subscriber's queue of events, as an async iterator. Ending it (`return`, or the hub
 * closing) answers a waiting `next` at once, so a client that unsubscribes leaves nothing
 * behind.
 */
export class EventQueue implements AsyncIterableIterator<HubEvent> {
  private readonly queued: HubEvent[] = [];
  private waiting: ((result: IteratorResult<HubEvent>) => void) | null = null;
  private ended = false;

  constructor(
    readonly projectId: string,
    readonly kinds: ReadonlySet<HubEvent['kind']>,
    private readonly onEnd: () => void,
  ) {}

  push(event: HubEvent): void {
    if (this.ended) return;
    if (this.waiting) {
      const deliver = this.waiting;
      this.waiting = null;
      deliver({ value: event, done: false });
      return;
    }
    // Events that only say "read again" are worth one in the queue; a status is kept in order.
    const plain = !('status' in event) || event.status === undefined;
    if (plain && this.queued.some((q) => JSON.stringify(q) === JSON.stringify(event))) return;
    if (this.queued.length >= MAX_QUEUED) {
      this.queued.length = 0;
      this.queued.push({ kind: 'resync', projectId: this.projectId });
      return;
    }
    this.queued.push(event);
  }

  next(): Promise<IteratorResult<HubEvent>> {
    const event = this.queued.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<HubEvent>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queued.length = 0;
    this.onEnd();
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/**
 * The API process's one listener for live changes, fanned out to the subscribers of each
 * project. It starts listening with the first subscriber.
 */
export class LiveHub {
  private readonly queues = new Set<EventQueue>();
  private listener: Promise<ChangeListener<LiveChange>> | null = null;
  private closed = false;

  constructor(private readonly db: Database) {}

  /**
   * A queue of the project's changes of these kinds; its first event is a `resync` (read the
   * current state), given only once the hub listens, so no change falls between the two.
   */
  async subscribe(projectId: string, kinds: LiveChange['kind'][]): Promise<EventQueue> {
    this.listener ??= this.db.listenForChanges({
      change: (change) => this.dispatch(change),
      resync: () => {
        for (const queue of this.queues) queue.push({ kind: 'resync', projectId: queue.projectId });
      },
    });
    await this.listener;
    const queue = new EventQueue(projectId, new Set(kinds), () => this.queues.delete(queue));
    if (this.closed) queue.end();
    else this.queues.add(queue);
    queue.push({ kind: 'resync', projectId });
    return queue;
  }

  /** Subscribers now (for limits and tests). */
  get size(): number {
    return this.queues.size;
  }

  private dispatch(change: LiveChange) {
    for (const queue of this.queues) {
      if (queue.projectId === change.projectId && queue.kinds.has(change.kind)) queue.push(change);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const queue of [...this.queues]) queue.end();
    const listener = await this.listener?.catch(() => null);
    await listener?.close();
  }
}
