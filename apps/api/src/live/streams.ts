import type { Campaign, Database, Round } from '@beanstalk/db';
import type { EventQueue, HubEvent, LiveHub } from './hub.ts';

type RoundStatus = Round['status'];

/** How often a round at work is sent again, for its activity's heartbeat (scored of total). */
const TICK_MS = 2_000;
const WORKING = new Set<RoundStatus>([
  'SCORING',
  'SELECTING',
  'TRAINING',
  'REINDEXING',
  'EVALUATING',
]);

/**
 * A round's statuses in the order a round passes through them; the ended ones last. A round
 * never goes back, so a status older than the one a subscriber was shown is old news (its
 * announcement was queued before the state the subscriber was first shown).
 */
const ROUND_ORDER: Record<RoundStatus, number> = {
  PENDING: 0,
  SCORING: 1,
  SELECTING: 2,
  LABELING: 3,
  TRAINING: 4,
  REINDEXING: 5,
  EVALUATING: 6,
  COMPLETED: 7,
  CANCELLED: 7,
  FAILED: 7,
};

/** Maps a subscriber's events to values to send; an event mapped to `undefined` sends nothing. */
function mapEvents<T>(
  queue: EventQueue,
  map: (event: HubEvent) => Promise<T | undefined>,
  onEnd: () => void = () => undefined,
): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const next = await queue.next();
        if (next.done) return { value: undefined, done: true };
        const value = await map(next.value);
        if (value !== undefined) return { value, done: false };
      }
    },
    async return() {
      onEnd();
      await queue.return();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/**
 * A project's rounds as they change: the newest round first (null when there is none), then
 * every status each round takes, in order, and its counts and progress between them.
 */
export async function roundUpdates(
  hub: LiveHub,
  db: Database,
  projectId: string,
): Promise<AsyncIterableIterator<Round | null>> {
  const queue = await hub.subscribe(projectId, ['round']);
  const shown = new Map<string, RoundStatus>();
  /** The round as of this event, with the status the subscriber is to see next. */
  const withStatus = (round: Round, announced?: RoundStatus): Round | undefined => {
    const before = shown.get(round.id);
    const status = announced ?? before ?? round.status;
    if (before && announced && ROUND_ORDER[announced] < ROUND_ORDER[before]) return undefined;
    shown.set(round.id, status);
    return { ...round, status };
  };
  const timer = setInterval(() => queue.push({ kind: 'tick' }), TICK_MS);
  timer.unref();
  return mapEvents(
    queue,
    async (event) => {
      if (event.kind === 'round') {
        const round = await db.rounds.byId(event.id);
        return round ? withStatus(round, event.status as RoundStatus | undefined) : undefined;
      }
      const latest = await db.rounds.latestOfProject(projectId);
      if (event.kind === 'tick') {
        const status = latest && (shown.get(latest.id) ?? latest.status);
        return latest && status && WORKING.has(status) ? { ...latest, status } : undefined;
      }
      // A (re)start: the current state as it is.
      if (!latest) return null;
      return withStatus(latest, latest.status) ?? { ...latest, status: shown.get(latest.id)! };
    },
    () => clearInterval(timer),
  );
}

/** A project's latest campaign as it changes (null before the first), its rounds' too. */
export async function campaignUpdates(
  hub: LiveHub,
  db: Database,
  projectId: string,
): Promise<AsyncIterableIterator<Campaign | null>> {
  const queue = await hub.subscribe(projectId, ['campaign', 'round']);
  return mapEvents(queue, async (event) => {
    // A round's tasks changing leaves the campaign as it was.
    if (event.kind === 'round' && event.status === undefined) return undefined;
    const campaign = await db.rounds.latestCampaign(projectId);
    if (campaign && event.kind === 'campaign' && event.id === campaign.id) {
      return { ...campaign, status: event.status as Campaign['status'] };
    }
    return campaign;
  });
}

/** A project's budget whenever it may have changed (labels, tasks, ledger entries). */
export async function budgetUpdates(
  hub: LiveHub,
  projectId: string,
): Promise<AsyncIterableIterator<{ projectId: string }>> {
  const queue = await hub.subscribe(projectId, ['budget']);
  return mapEvents(queue, async () => ({ projectId }));
}
