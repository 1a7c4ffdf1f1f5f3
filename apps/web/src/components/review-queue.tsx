'use client';

import { useCallback, useEffect, useLayoutEffect, useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { ReviewIssuesQuery } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { GraphQLRequestError } from '../lib/errors.ts';
import { keyAction, keyFor, OWN_KEYS } from '../lib/keys.ts';
import type { QueueClass } from './labeling-queue.tsx';
import { NearestLabeled, QueueImage, QueueMessage } from './queue-parts.tsx';

const ReviewIssues = graphql(`
  query ReviewIssues($slug: String!) {
    labelIssues(project: $slug, first: 20) {
      totalCount
      issues {
        id
        kind
        score
        selfConfidence
        roundNumber
        suggestedClass {
          id
          name
        }
        label {
          id
          source
          createdAt
          labelClass {
            id
            name
          }
          annotator {
            name
          }
        }
        item {
          id
          imageDataUrl
          width
          height
          labelHistory {
            id
            source
            reason
            createdAt
            labelClass {
              name
            }
            annotator {
              name
            }
          }
          neighbors(k: 8, filter: { labeled: true }) {
            ...NeighbourThumb
          }
        }
      }
    }
  }
`);

const ReviewLabelIssue = graphql(`
  mutation ReviewLabelIssue($id: ID!, $decision: ReviewDecision!, $classId: ID, $reason: String) {
    reviewLabelIssue(issueId: $id, decision: $decision, labelClassId: $classId, reason: $reason) {
      id
      status
    }
  }
`);

type Issue = ReviewIssuesQuery['labelIssues']['issues'][number];

/** Said when a reviewer relabels by key without typing a reason. */
const DEFAULT_REASON = 'corrected in review: the neighbours were right';

/**
 * The reviewer's queue of flagged labels (doubted by their neighbours, or contradicted by
 * another person), one at a time: keep the label (k), take the suggested class (a), give
 * another class by its key, ask another annotator (o), or pass (n). Class keys are the
 * labeling queue's; a class hotkey wins over the review keys.
 */
export function ReviewQueue({ slug, classes }: { slug: string; classes: QueueClass[] }) {
  const [issues, setIssues] = useState<Issue[] | null>(null);
  const [total, setTotal] = useState(0);
  const [passed, setPassed] = useState<string[]>([]);
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [help, setHelp] = useState(false);

  const load = useCallback(async () => {
    try {
      const { labelIssues } = await call(ReviewIssues, { slug });
      setIssues(labelIssues.issues);
      setTotal(labelIssues.totalCount);
    } catch (error) {
      setIssues([]);
      setMessage({
        kind: 'error',
        text: `Could not load flagged labels: ${(error as Error).message}`,
      });
    }
  }, [slug]);
  useEffect(() => {
    void load();
  }, [load]);

  const waiting = (issues ?? []).filter((i) => !passed.includes(i.id));
  const issue = waiting[0] ?? null;

  const decide = useCallback(
    async (decision: 'KEEP' | 'RELABEL' | 'SEND', classId?: string) => {
      if (!issue || busy) return;
      if (decision === 'RELABEL' && classId === issue.label.labelClass?.id) {
        setMessage({ kind: 'info', text: 'That is the label it has: press k to keep it.' });
        return;
      }
      setBusy(true);
      let settled = true;
      try {
        await call(ReviewLabelIssue, {
          id: issue.id,
          decision,
          classId: classId ?? null,
          reason: reason.trim() || (decision === 'RELABEL' ? DEFAULT_REASON : null),
        });
        const name = classes.find((c) => c.id === classId)?.name;
        setMessage({
          kind: 'info',
          text:
            decision === 'KEEP'
              ? `Kept ${issue.label.labelClass?.name ?? 'the label'}.`
              : decision === 'SEND'
                ? 'Sent to another annotator: it is first in their queue.'
                : `Relabeled ${issue.label.labelClass?.name ?? '—'} → ${name}.`,
        });
      } catch (error) {
        // Someone else decided first, or the label changed: that issue is settled anyway; any
        // other failure keeps it on screen to try again.
        settled = error instanceof GraphQLRequestError && error.code === 'CONFLICT';
        setMessage({ kind: 'error', text: `Not saved: ${(error as Error).message}` });
      } finally {
        setBusy(false);
      }
      if (!settled) return;
      setReason('');
      const rest = (issues ?? []).filter((i) => i.id !== issue.id);
      setIssues(rest);
      setTotal((t) => Math.max(0, t - 1));
      if (rest.filter((i) => !passed.includes(i.id)).length === 0) void load();
    },
    [issue, busy, reason, classes, issues, passed, load],
  );

  const pass = useCallback(() => {
    if (issue) setPassed((p) => [...p, issue.id]);
  }, [issue]);

  // Bound in the commit that shows a new item (a layout effect), so a key pressed the moment it
  // appears acts on it, never on the one before.
  useLayoutEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      // The auto-label list below handles its own keys.
      if (target?.closest(`[${OWN_KEYS}]`)) return;
      const inField = !!target?.closest('input, textarea, select, [contenteditable]');
      const press = {
        key: event.key,
        ctrlKey: event.ctrlKey,
        altKey: event.altKey,
        metaKey: event.metaKey,
        inField,
      };
      const action = keyAction(press, classes);
      if (action?.type === 'label') {
        event.preventDefault();
        void decide('RELABEL', action.classId);
        return;
      }
      if (action?.type === 'help') {
        event.preventDefault();
        setHelp((h) => !h);
        return;
      }
      if (inField || event.ctrlKey || event.altKey || event.metaKey) return;
      const key = event.key.toLowerCase();
      if (key === 'k') void decide('KEEP');
      else if (key === 'a' && issue) void decide('RELABEL', issue.suggestedClass.id);
      else if (key === 'o') void decide('SEND');
      else if (key === 'n' || key === 's') pass();
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [classes, decide, pass, issue]);

  if (issues === null) return <p>Loading flagged labels…</p>;
  return (
    <div className="queue review">
      <p className="round-progress" aria-live="polite" data-testid="review-left">
        {total} flagged label{total === 1 ? '' : 's'} to review
        {passed.length ? ` · ${passed.length} passed over` : ''}
      </p>
      <QueueMessage message={message} />
      {!issue && (
        <p data-testid="review-empty">
          Nothing to review{passed.length ? ' but what you passed over (reload to see it)' : ''}.
          Labels are checked again after every round.
        </p>
      )}
      {issue && (
        <div className="task" data-testid="issue" data-issue-id={issue.id}>
          <QueueImage
            item={issue.item}
            alt={`Item ${issue.item.id.slice(0, 8)} under review`}
            captionTestId="issue-summary"
          >
            Labeled <strong>{issue.label.labelClass?.name ?? '—'}</strong> (
            {issue.label.source.toLowerCase()}
            {issue.label.annotator ? ` by ${issue.label.annotator.name}` : ''});{' '}
            {issue.kind === 'DISAGREEMENT' ? (
              <>
                another person said <strong>{issue.suggestedClass.name}</strong>
              </>
            ) : (
              <>
                its neighbours say <strong>{issue.suggestedClass.name}</strong> · doubt{' '}
                {Math.round(issue.score * 100)}%
              </>
            )}
            {issue.roundNumber ? ` · flagged after round ${issue.roundNumber}` : ''}
          </QueueImage>
          <section className="choices" aria-label="Decision">
            <h2>Decide</h2>
            <ul>
              <li>
                <button type="button" disabled={busy} onClick={() => void decide('KEEP')}>
                  <kbd>k</kbd> Keep {issue.label.labelClass?.name}
                </button>
              </li>
              <li>
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => void decide('RELABEL', issue.suggestedClass.id)}
                >
                  <kbd>a</kbd> Take {issue.suggestedClass.name}
                </button>
              </li>
              {classes
                .filter((c) => !c.retired)
                .map((c) => {
                  const key = keyFor(c, classes);
                  return (
                    <li key={c.id}>
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() => void decide('RELABEL', c.id)}
                        style={{ borderLeftColor: c.colour }}
                      >
                        {key && <kbd>{key}</kbd>} {c.name}
                      </button>
                    </li>
                  );
                })}
              <li>
                <button type="button" disabled={busy} onClick={() => void decide('SEND')}>
                  <kbd>o</kbd> Ask another annotator
                </button>
              </li>
              <li>
                <button type="button" onClick={pass}>
                  <kbd>n</kbd> Pass
                </button>
              </li>
            </ul>
            <label>
              Reason (optional; kept in the label history)
              <input
                value={reason}
                maxLength={500}
                onChange={(e) => setReason(e.target.value)}
                placeholder={DEFAULT_REASON}
              />
            </label>
            <p className="muted">
              <kbd>?</kbd> all keys
            </p>
          </section>
          <NearestLabeled neighbours={issue.item.neighbors} />
          <section aria-label="Label history">
            <h2>History</h2>
            <ol>
              {issue.item.labelHistory.map((l) => (
                <li key={l.id}>
                  {l.labelClass?.name ?? 'withdrawn'} · {l.source.toLowerCase()}
                  {l.annotator ? ` by ${l.annotator.name}` : ''} ·{' '}
                  {new Date(l.createdAt).toLocaleString()}
                  {l.reason ? ` · “${l.reason}”` : ''}
                </li>
              ))}
            </ol>
          </section>
        </div>
      )}
      {help && (
        <div role="dialog" aria-label="Keyboard shortcuts" className="help">
          <h2>Keys</h2>
          <ul>
            <li>
              <kbd>k</kbd> keep the label · <kbd>a</kbd> take the suggested class · <kbd>o</kbd> ask
              another annotator · <kbd>n</kbd> pass
            </li>
            {classes
              .filter((c) => !c.retired)
              .map((c) => (
                <li key={c.id}>
                  <kbd>{keyFor(c, classes) ?? '—'}</kbd> relabel as {c.name}
                </li>
              ))}
          </ul>
          <button type="button" onClick={() => setHelp(false)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}
