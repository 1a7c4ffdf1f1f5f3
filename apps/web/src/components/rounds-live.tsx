'use client';

import { useEffect, useRef, useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { RoundsLiveQuery } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { useSubscription } from '../lib/live.ts';

graphql(`
  fragment LiveRound on Round {
    id
    number
    status
    budgetAsked
    evalAsked
    selection
    labelsReceived
    autoAccepted
    autoPrecisionBound
    autoTruePrecisionSimulated
    note
    startedAt
    endedAt
    metrics {
      macroF1
      truth
      evaluated
    }
    progress {
      phase
      asked
      received
      activity {
        name
        details
      }
    }
  }
`);

const RoundsLiveQueryDoc = graphql(`
  query RoundsLive($slug: String!) {
    rounds(project: $slug) {
      ...LiveRound
    }
  }
`);

const RoundUpdates = graphql(`
  subscription RoundUpdates($slug: String!) {
    roundUpdated(project: $slug) {
      ...LiveRound
    }
  }
`);

type LiveRound = RoundsLiveQuery['rounds'][number];

/** The list with `round` in its place (a new round first). */
const merged = (rounds: LiveRound[], round: LiveRound) =>
  rounds.some((r) => r.id === round.id)
    ? rounds.map((r) => (r.id === round.id ? round : r))
    : [round, ...rounds];

/**
 * The rounds, newest first: loaded once, then kept current by the roundUpdated subscription
 * (every phase as it starts; the running one's work every few seconds).
 */
export function RoundsLive({ slug }: { slug: string }) {
  const [rounds, setRounds] = useState<LiveRound[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Updates that arrive before the list are kept and applied to it.
  const early = useRef<LiveRound[]>([]);
  useEffect(() => {
    let stopped = false;
    call(RoundsLiveQueryDoc, { slug }).then(
      (data) => {
        if (!stopped) setRounds(early.current.reduce(merged, data.rounds));
      },
      (e: Error) => {
        if (!stopped) setError(e.message);
      },
    );
    return () => {
      stopped = true;
    };
  }, [slug]);
  useSubscription(
    RoundUpdates,
    { slug },
    (data) => {
      const round = data.roundUpdated;
      if (!round) return;
      setError(null);
      setRounds((current) => {
        if (current) return merged(current, round);
        early.current.push(round);
        return current;
      });
    },
    (message) => setError(`live updates stopped (${message})`),
  );
  const alert = error && (
    <p role="alert" className="error">
      {rounds ? 'Rounds shown as last received: ' : 'Cannot load rounds: '}
      {error}
    </p>
  );
  if (!rounds) return alert || <p>Loading rounds…</p>;
  if (rounds.length === 0) {
    return alert || <p>No rounds yet. Start a campaign to run the first.</p>;
  }
  return (
    <>
      {alert}
      <ol className="rounds" data-testid="rounds" reversed>
        {rounds.map((r) => {
          const work = r.progress?.activity?.details
            ? (JSON.parse(r.progress.activity.details) as Record<string, number>)
            : null;
          const done = work?.scored ?? work?.written ?? null;
          return (
            <li key={r.id}>
              <strong>Round {r.number}</strong> · {r.status.toLowerCase()} · {r.labelsReceived}/
              {r.budgetAsked} labels
              {r.evalAsked > 0 && ` (${r.evalAsked} of them a random eval sample)`}
              {r.selection &&
                ` · chosen by ${r.selection.toLowerCase().replaceAll('_', '-')}`} · {r.autoAccepted}{' '}
              auto
              {r.autoPrecisionBound != null &&
                ` (precision ≥ ${r.autoPrecisionBound.toFixed(3)} at 95% confidence` +
                  (r.autoTruePrecisionSimulated != null
                    ? `; simulated truth: ${r.autoTruePrecisionSimulated.toFixed(3)})`
                    : ')')}
              {r.metrics &&
                ` · macro-F1 ${r.metrics.macroF1.toFixed(3)} on ${r.metrics.evaluated} eval items` +
                  (r.metrics.truth === 'SIMULATED' ? ' (simulated ground truth)' : '')}
              {r.progress && (
                <div className="progress">
                  phase {r.progress.phase}
                  {r.progress.activity && ` · ${r.progress.activity.name}`}
                  {done !== null && work?.total ? (
                    <progress
                      value={done}
                      max={work.total}
                      aria-label={`${r.progress.phase} progress`}
                    >
                      {done}/{work.total}
                    </progress>
                  ) : null}
                </div>
              )}
              {r.note && <div className="muted">{r.note}</div>}
            </li>
          );
        })}
      </ol>
    </>
  );
}
