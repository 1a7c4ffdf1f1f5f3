'use client';

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { AutoLabelsQuery } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { keyAction, keyFor, OWN_KEYS } from '../lib/keys.ts';
import type { QueueClass } from './labeling-queue.tsx';
import { QueueMessage } from './queue-parts.tsx';

const AutoLabels = graphql(`
  query AutoLabels($slug: String!) {
    autoLabels(project: $slug, first: 20) {
      totalCount
      labels {
        id
        confidence
        roundNumber
        labelClass {
          id
          name
        }
        item {
          id
          imageDataUrl
        }
      }
    }
  }
`);

const ConfirmOrCorrect = graphql(`
  mutation ReviewAutoLabel($itemId: ID!, $classId: ID!, $reason: String!) {
    relabel(itemId: $itemId, labelClassId: $classId, reason: $reason) {
      id
    }
  }
`);

const Withdraw = graphql(`
  mutation WithdrawAutoLabel($itemId: ID!) {
    revertAutoLabel(itemId: $itemId, reason: "withdrawn in review") {
      id
    }
  }
`);

type AutoLabel = AutoLabelsQuery['autoLabels']['labels'][number];

/**
 * The project's auto labels, least confident first: confirm one (a human label of the same
 * class, one label of budget), correct it to another class, or withdraw it (the image returns
 * to the pool). Keyboard: `l` moves into the list, ↑/↓ (or j/k) between rows, `c` confirms,
 * a class's key corrects to it, `w` withdraws; focus then moves to the next row.
 */
export function AutoLabelReview({ slug, classes }: { slug: string; classes: QueueClass[] }) {
  const [labels, setLabels] = useState<AutoLabel[] | null>(null);
  const [total, setTotal] = useState(0);
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const list = useRef<HTMLUListElement>(null);
  // The row to focus once the list has re-rendered (after an action removed one).
  const focusNext = useRef<number | null>(null);

  const load = useCallback(async () => {
    try {
      const { autoLabels } = await call(AutoLabels, { slug });
      setLabels(autoLabels.labels);
      setTotal(autoLabels.totalCount);
    } catch (error) {
      setLabels([]);
      setMessage({
        kind: 'error',
        text: `Could not load auto labels: ${(error as Error).message}`,
      });
    }
  }, [slug]);
  useEffect(() => {
    void load();
  }, [load]);

  const rows = () =>
    Array.from(list.current?.querySelectorAll<HTMLElement>('[data-testid="auto-label"]') ?? []);
  const focusRow = (index: number) => {
    const all = rows();
    all[Math.max(0, Math.min(index, all.length - 1))]?.focus();
  };
  useLayoutEffect(() => {
    if (focusNext.current === null) return;
    focusRow(focusNext.current);
    focusNext.current = null;
  }, [labels]);

  const act = async (label: AutoLabel, action: () => Promise<unknown>, done: string) => {
    const index = (labels ?? []).findIndex((l) => l.id === label.id);
    try {
      await action();
      setMessage({ kind: 'info', text: done });
      // Keyboard or not, the row that takes this one's place gets the focus.
      if (list.current?.contains(document.activeElement)) focusNext.current = index;
      setLabels((all) => (all ?? []).filter((l) => l.id !== label.id));
      setTotal((t) => Math.max(0, t - 1));
    } catch (error) {
      setMessage({ kind: 'error', text: `Not saved: ${(error as Error).message}` });
    }
  };
  const confirm = (label: AutoLabel) => {
    const name = label.labelClass?.name ?? '—';
    return act(
      label,
      () =>
        call(ConfirmOrCorrect, {
          itemId: label.item.id,
          classId: label.labelClass!.id,
          reason: 'auto label confirmed in review',
        }),
      `Confirmed ${name}.`,
    );
  };
  const correct = (label: AutoLabel, classId: string) => {
    if (classId === label.labelClass?.id) return confirm(label);
    const to = classes.find((c) => c.id === classId)?.name;
    return act(
      label,
      () =>
        call(ConfirmOrCorrect, {
          itemId: label.item.id,
          classId,
          reason: 'auto label corrected in review',
        }),
      `Corrected ${label.labelClass?.name ?? '—'} → ${to}.`,
    );
  };
  const withdraw = (label: AutoLabel) =>
    act(
      label,
      () => call(Withdraw, { itemId: label.item.id }),
      `Withdrew ${label.labelClass?.name ?? '—'}: the image is back in the pool.`,
    );

  // `l` from anywhere on the page (outside text fields) moves into the list.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      if (target?.closest(`input, textarea, select, [contenteditable], [${OWN_KEYS}]`)) return;
      if (event.key !== 'l' || keyAction({ key: 'l' }, classes)) return;
      event.preventDefault();
      focusRow(0);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [classes]);

  const onRowKey = (event: React.KeyboardEvent, label: AutoLabel, index: number) => {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if ((event.target as HTMLElement).closest('select')) return;
    const key = event.key;
    const action = keyAction({ key }, classes);
    // A class's own key comes first, as in the review queue above.
    if (action?.type === 'label') void correct(label, action.classId);
    else if (key === 'ArrowDown' || key === 'j') focusRow(index + 1);
    else if (key === 'ArrowUp' || key === 'k') focusRow(index - 1);
    else if (key === 'c') void confirm(label);
    else if (key === 'w') void withdraw(label);
    else return;
    event.preventDefault();
  };

  if (labels === null) return <p>Loading auto labels…</p>;
  return (
    <div data-testid="auto-labels">
      <p aria-live="polite" data-testid="auto-left">
        {total} auto label{total === 1 ? '' : 's'}
        {total > labels.length ? `; the ${labels.length} least confident here` : ''}
      </p>
      <QueueMessage message={message} />
      <ul className="auto-labels" ref={list} {...{ [OWN_KEYS]: '' }}>
        {labels.map((label, index) => {
          const name = label.labelClass?.name ?? '—';
          return (
            <li
              key={label.id}
              data-testid="auto-label"
              data-item-id={label.item.id}
              tabIndex={0}
              aria-label={`Auto label ${name}: c confirms, w withdraws, a class key corrects`}
              onKeyDown={(e) => onRowKey(e, label, index)}
            >
              <img
                src={label.item.imageDataUrl}
                alt={`Item ${label.item.id.slice(0, 8)}, auto-labeled ${name}`}
                className="pixelated"
                width={56}
                height={56}
              />
              <span>
                <strong>{name}</strong> ·{' '}
                {label.confidence == null ? '—' : `${Math.round(label.confidence * 100)}%`}{' '}
                confident
                {label.roundNumber ? ` · round ${label.roundNumber}` : ''}
              </span>
              <button type="button" onClick={() => void confirm(label)}>
                <kbd>c</kbd> Confirm {name}
              </button>
              <label>
                Correct to
                <select defaultValue="" onChange={(e) => void correct(label, e.target.value)}>
                  <option value="" disabled>
                    choose…
                  </option>
                  {classes
                    .filter((c) => !c.retired && c.id !== label.labelClass?.id)
                    .map((c) => {
                      const key = keyFor(c, classes);
                      return (
                        <option key={c.id} value={c.id}>
                          {key ? `${key} · ` : ''}
                          {c.name}
                        </option>
                      );
                    })}
                </select>
              </label>
              <button type="button" onClick={() => void withdraw(label)}>
                <kbd>w</kbd> Withdraw
              </button>
            </li>
          );
        })}
      </ul>
      {labels.length > 0 && (
        <p className="muted">
          <kbd>l</kbd> goes to the list · <kbd>↑</kbd>/<kbd>↓</kbd> move · <kbd>c</kbd> confirm · a
          class key corrects · <kbd>w</kbd> withdraw
        </p>
      )}
    </div>
  );
}
