'use client';

import { useCallback, useEffect, useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { AutoLabelsQuery } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
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
 * to the pool).
 */
export function AutoLabelReview({
  slug,
  classes,
}: {
  slug: string;
  classes: { id: string; name: string; retired: boolean }[];
}) {
  const [labels, setLabels] = useState<AutoLabel[] | null>(null);
  const [total, setTotal] = useState(0);
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);

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

  const act = async (label: AutoLabel, action: () => Promise<unknown>, done: string) => {
    try {
      await action();
      setMessage({ kind: 'info', text: done });
      setLabels((all) => (all ?? []).filter((l) => l.id !== label.id));
      setTotal((t) => Math.max(0, t - 1));
    } catch (error) {
      setMessage({ kind: 'error', text: `Not saved: ${(error as Error).message}` });
    }
  };

  if (labels === null) return <p>Loading auto labels…</p>;
  return (
    <div data-testid="auto-labels">
      <p aria-live="polite" data-testid="auto-left">
        {total} auto label{total === 1 ? '' : 's'}
        {total > labels.length ? `; the ${labels.length} least confident here` : ''}
      </p>
      <QueueMessage message={message} />
      <ul className="auto-labels">
        {labels.map((label) => {
          const name = label.labelClass?.name ?? '—';
          return (
            <li key={label.id} data-testid="auto-label" data-item-id={label.item.id}>
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
              <button
                type="button"
                onClick={() =>
                  void act(
                    label,
                    () =>
                      call(ConfirmOrCorrect, {
                        itemId: label.item.id,
                        classId: label.labelClass!.id,
                        reason: 'auto label confirmed in review',
                      }),
                    `Confirmed ${name}.`,
                  )
                }
              >
                Confirm {name}
              </button>
              <label>
                Correct to
                <select
                  defaultValue=""
                  onChange={(e) => {
                    const classId = e.target.value;
                    const to = classes.find((c) => c.id === classId)?.name;
                    void act(
                      label,
                      () =>
                        call(ConfirmOrCorrect, {
                          itemId: label.item.id,
                          classId,
                          reason: 'auto label corrected in review',
                        }),
                      `Corrected ${name} → ${to}.`,
                    );
                  }}
                >
                  <option value="" disabled>
                    choose…
                  </option>
                  {classes
                    .filter((c) => !c.retired && c.id !== label.labelClass?.id)
                    .map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.name}
                      </option>
                    ))}
                </select>
              </label>
              <button
                type="button"
                onClick={() =>
                  void act(
                    label,
                    () => call(Withdraw, { itemId: label.item.id }),
                    `Withdrew ${name}: the image is back in the pool.`,
                  )
                }
              >
                Withdraw
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
