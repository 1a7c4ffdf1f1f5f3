'use client';

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { ClaimTaskMutation, QueueRoundSubscription } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { GraphQLRequestError } from '../lib/errors.ts';
import { keyAction, keyFor, type KeyClass } from '../lib/keys.ts';
import { useSubscription } from '../lib/live.ts';
import { NearestLabeled, QueueImage, QueueMessage } from './queue-parts.tsx';

const ClaimTask = graphql(`
  mutation ClaimTask($slug: String!) {
    claimNextTask(project: $slug) {
      id
      leaseExpiresAt
      roundNumber
      item {
        id
        imageDataUrl
        width
        height
        prediction {
          labelClass {
            id
            name
          }
          confidence
        }
        neighbors(k: 6, filter: { labeled: true }) {
          ...NeighbourThumb
        }
        similarUnlabeled: neighbors(k: 6, filter: { labeled: false, splits: [POOL] }) {
          distance
          item {
            id
            imageDataUrl
          }
        }
        proposedAlongside {
          id
          imageDataUrl
        }
      }
    }
  }
`);

const SubmitLabel = graphql(`
  mutation SubmitLabel($taskId: ID!, $classId: ID!, $also: [ID!]) {
    submitLabel(taskId: $taskId, labelClassId: $classId, alsoItemIds: $also) {
      duplicate
      also {
        id
      }
      alsoSkipped {
        itemId
        reason
      }
    }
  }
`);

const SkipTask = graphql(`
  mutation SkipTask($taskId: ID!) {
    skipTask(taskId: $taskId) {
      id
    }
  }
`);

const QueueRound = graphql(`
  subscription QueueRound($slug: String!) {
    roundUpdated(project: $slug) {
      number
      budgetAsked
      labelsReceived
    }
  }
`);

const QueueBudget = graphql(`
  subscription QueueBudget($slug: String!) {
    budgetUpdated(project: $slug) {
      remaining
    }
  }
`);

type Task = NonNullable<ClaimTaskMutation['claimNextTask']>;
export interface QueueClass extends KeyClass {
  name: string;
  colour: string;
}

/** How long a label can be taken back with `u` before it is sent. */
export const UNDO_WINDOW_MS = 5000;

interface Pending {
  task: Task;
  classId: string;
  alongside: string[];
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The annotator's queue: one leased task on screen, the next one claimed in the background so
 * labeling never waits on the network, and the last label held back for a few seconds so `u`
 * can take it back before it is stored.
 */
export function LabelingQueue({ slug, classes }: { slug: string; classes: QueueClass[] }) {
  const [task, setTask] = useState<Task | null | undefined>(undefined);
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const [failed, setFailed] = useState<{ task: Task; classId: string; reason: string }[]>([]);
  const [help, setHelp] = useState(false);
  const [saved, setSaved] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  const [pendingView, setPendingView] = useState<{ name: string } | null>(null);
  const [round, setRound] = useState<QueueRoundSubscription['roundUpdated']>(null);
  const [remaining, setRemaining] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const next = useRef<Promise<Task | null> | null>(null);
  const pending = useRef<Pending | null>(null);
  const busy = useRef(false);
  const className = useCallback(
    (id: string) => classes.find((c) => c.id === id)?.name ?? id,
    [classes],
  );

  const claim = useCallback(async (): Promise<Task | null> => {
    const data = await call(ClaimTask, { slug });
    return data.claimNextTask ?? null;
  }, [slug]);

  /** Shows the prefetched task (or claims one) and prefetches the one after. */
  const advance = useCallback(async () => {
    const upcoming = next.current ?? claim();
    next.current = null;
    try {
      const shown = await upcoming;
      setTask(shown);
      // Near-duplicates the project links come ticked; similar images wait to be chosen.
      setSelected(shown?.item.proposedAlongside.map((i) => i.id) ?? []);
      if (shown) next.current = claim();
      next.current?.catch(() => undefined);
    } catch (error) {
      setTask(null);
      setMessage({ kind: 'error', text: `Could not get a task: ${(error as Error).message}` });
    }
  }, [claim]);

  /** Sends the held-back label now; a refusal is kept on screen with its reason. */
  const flush = useCallback(async () => {
    const p = pending.current;
    if (!p) return;
    clearTimeout(p.timer);
    pending.current = null;
    setPendingView(null);
    try {
      // The similar images go in the same request: stored with the task's label, in its
      // round and within the budget, or not at all.
      const { submitLabel } = await call(SubmitLabel, {
        taskId: p.task.id,
        classId: p.classId,
        also: p.alongside,
      });
      setSaved((n) => n + 1 + submitLabel.also.length);
      if (submitLabel.alsoSkipped.length) {
        setMessage({
          kind: 'info',
          text: `${submitLabel.alsoSkipped.length} similar image(s) were left alone: ${submitLabel.alsoSkipped[0]!.reason}.`,
        });
      }
    } catch (error) {
      const reason =
        error instanceof GraphQLRequestError && error.code === 'CONFLICT'
          ? `refused: ${error.message}`
          : (error as Error).message;
      setFailed((f) => [...f, { task: p.task, classId: p.classId, reason }]);
      setMessage({
        kind: 'error',
        text: `The label for the previous image was not saved (${reason}).`,
      });
    }
  }, []);

  /** Sends a refused or lost label again (a refusal that still holds stays listed). */
  const retry = useCallback(
    async (f: { task: Task; classId: string }) => {
      try {
        await call(SubmitLabel, { taskId: f.task.id, classId: f.classId });
        setFailed((list) => list.filter((x) => x.task.id !== f.task.id));
        setSaved((n) => n + 1);
        setMessage({ kind: 'info', text: `Saved ${className(f.classId)} on retry.` });
      } catch (error) {
        setMessage({ kind: 'error', text: `Still not saved: ${(error as Error).message}` });
      }
    },
    [className],
  );

  const label = useCallback(
    async (classId: string) => {
      if (!task || busy.current) return;
      busy.current = true;
      try {
        await flush();
        const held: Pending = {
          task,
          classId,
          alongside: selected,
          timer: setTimeout(() => void flush(), UNDO_WINDOW_MS),
        };
        pending.current = held;
        setPendingView({ name: className(classId) });
        setMessage({
          kind: 'info',
          text: `Labeled ${className(classId)}${selected.length ? ` with ${selected.length} similar` : ''}. Press u to undo.`,
        });
        await advance();
      } finally {
        busy.current = false;
      }
    },
    [task, flush, advance, className, selected],
  );

  const skip = useCallback(async () => {
    if (!task || busy.current) return;
    busy.current = true;
    try {
      await flush();
      await call(SkipTask, { taskId: task.id }).catch((error: Error) =>
        setMessage({ kind: 'error', text: `Skip failed: ${error.message}` }),
      );
      setMessage({ kind: 'info', text: 'Skipped; the image goes back to the pool.' });
      await advance();
    } finally {
      busy.current = false;
    }
  }, [task, flush, advance]);

  const undo = useCallback(() => {
    const p = pending.current;
    if (!p) {
      setMessage({
        kind: 'info',
        text: 'Nothing to undo: the last label is already saved (a manager can relabel it).',
      });
      return;
    }
    clearTimeout(p.timer);
    pending.current = null;
    setPendingView(null);
    // The task on screen was prefetched; it goes back to being the next one.
    if (task) next.current = Promise.resolve(task);
    setTask(p.task);
    setSelected(p.alongside);
    setMessage({ kind: 'info', text: `Undone: ${className(p.classId)} was not saved.` });
  }, [task, className]);

  useEffect(() => {
    void advance();
  }, [advance]);

  // A label still held back is sent when the page goes away.
  useEffect(() => {
    const away = () => void flush();
    window.addEventListener('pagehide', away);
    return () => window.removeEventListener('pagehide', away);
  }, [flush]);

  // Bound in the commit that shows a new item (a layout effect), so a key pressed the moment it
  // appears acts on it, never on the one before.
  useLayoutEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const inField = !!target?.closest('input, textarea, select, [contenteditable]');
      const action = keyAction(
        {
          key: event.key,
          ctrlKey: event.ctrlKey,
          altKey: event.altKey,
          metaKey: event.metaKey,
          inField,
        },
        classes,
      );
      if (!action) return;
      event.preventDefault();
      if (action.type === 'label') void label(action.classId);
      if (action.type === 'skip') void skip();
      if (action.type === 'undo') undo();
      if (action.type === 'help') setHelp((h) => !h);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [classes, label, skip, undo]);

  // The progress line follows the round and the budget live (the queue works without it).
  useSubscription(QueueRound, { slug }, ({ roundUpdated: round }) => setRound(round));
  useSubscription(QueueBudget, { slug }, ({ budgetUpdated }) =>
    setRemaining(budgetUpdated.remaining),
  );
  const progress =
    round && remaining !== null
      ? {
          round: round.number,
          asked: round.budgetAsked,
          received: round.labelsReceived,
          remaining,
        }
      : null;
  useEffect(() => {
    const clock = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(clock);
  }, []);

  const leaseLeft = task?.leaseExpiresAt
    ? Math.round((new Date(task.leaseExpiresAt).getTime() - now) / 1000)
    : null;

  return (
    <div className="queue">
      <p className="round-progress" aria-live="polite">
        {progress
          ? `Round ${progress.round}: ${progress.received} of ${progress.asked} labels received · ${progress.remaining} budget left`
          : 'Loading round progress…'}
        {' · '}
        <span data-testid="saved-count">{saved}</span> saved in this session
        {pendingView ? ` · “${pendingView.name}” waiting (u to undo)` : ''}
      </p>
      <QueueMessage message={message} />
      {failed.length > 0 && (
        <section aria-label="Labels not saved" className="failed">
          <h2>Not saved</h2>
          <ul>
            {failed.map((f) => (
              <li key={f.task.id}>
                {className(f.classId)} for task {f.task.id.slice(0, 8)}: {f.reason}{' '}
                <button type="button" onClick={() => void retry(f)}>
                  Retry
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {task === undefined && <p>Claiming a task…</p>}
      {task === null && (
        <p data-testid="queue-empty">
          No open tasks right now. New ones appear when a manager starts a round.
        </p>
      )}
      {task && (
        <div className="task" data-testid="task" data-task-id={task.id}>
          <QueueImage item={task.item} alt={`Item ${task.item.id.slice(0, 8)} to label`}>
            {task.item.prediction
              ? `Model says ${task.item.prediction.labelClass.name} (${Math.round(task.item.prediction.confidence * 100)}% confident)`
              : 'No prediction yet (cold start)'}
            {leaseLeft !== null && (
              <span className={leaseLeft < 30 ? 'error' : undefined}>
                {' · '}
                {leaseLeft > 0
                  ? `lease ${leaseLeft} s`
                  : 'lease expired: labeling it will be refused'}
              </span>
            )}
          </QueueImage>
          <section className="choices" aria-label="Classes">
            <h2>Label it</h2>
            <ul>
              {classes
                .filter((c) => !c.retired)
                .map((c) => {
                  const key = keyFor(c, classes);
                  return (
                    <li key={c.id}>
                      <button
                        type="button"
                        onClick={() => void label(c.id)}
                        style={{ borderLeftColor: c.colour }}
                      >
                        {key && <kbd>{key}</kbd>} {c.name}
                      </button>
                    </li>
                  );
                })}
              <li>
                <button type="button" onClick={() => void skip()}>
                  <kbd>s</kbd> Skip
                </button>
              </li>
            </ul>
            <p className="muted">
              <kbd>u</kbd> undo · <kbd>?</kbd> all keys
            </p>
          </section>
          <NearestLabeled neighbours={task.item.neighbors} />
          <section className="alongside" aria-label="Also label these">
            <h2>Also label these</h2>
            <p className="muted">
              Ticked images get the same label (each counts against the budget).
            </p>
            <ul>
              {[
                ...task.item.proposedAlongside.map((item) => ({ item, nearDuplicate: true })),
                ...task.item.similarUnlabeled
                  .filter((n) => !task.item.proposedAlongside.some((p) => p.id === n.item.id))
                  .map((n) => ({ item: n.item, nearDuplicate: false })),
              ].map(({ item, nearDuplicate }) => (
                <li key={item.id}>
                  <label>
                    <input
                      type="checkbox"
                      checked={selected.includes(item.id)}
                      onChange={(e) =>
                        setSelected((s) =>
                          e.target.checked ? [...s, item.id] : s.filter((x) => x !== item.id),
                        )
                      }
                    />
                    <img
                      src={item.imageDataUrl}
                      alt={`${nearDuplicate ? 'Near-duplicate' : 'Similar'} item ${item.id.slice(0, 8)}`}
                      className="pixelated"
                      width={56}
                      height={56}
                    />
                    {nearDuplicate && <span className="muted"> near-duplicate</span>}
                  </label>
                </li>
              ))}
            </ul>
          </section>
        </div>
      )}
      {help && (
        <div role="dialog" aria-label="Keyboard shortcuts" className="help">
          <h2>Keys</h2>
          <ul>
            {classes
              .filter((c) => !c.retired)
              .map((c) => (
                <li key={c.id}>
                  <kbd>{keyFor(c, classes) ?? '—'}</kbd> {c.name}
                </li>
              ))}
            <li>
              <kbd>s</kbd> skip · <kbd>u</kbd> undo the last label (within {UNDO_WINDOW_MS / 1000}{' '}
              s) · <kbd>?</kbd> close
            </li>
          </ul>
          <button type="button" onClick={() => setHelp(false)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}
