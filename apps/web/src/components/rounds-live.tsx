'use client';

import { useEffect, useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { RoundsLiveQuery } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';

const RoundsLiveQueryDoc = graphql(`
  query RoundsLive($slug: String!) {
    rounds(project: $slug) {
      id
      number
      status
      budgetAsked
      evalAsked
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
  }
`);

/** The rounds, newest first, refreshed every 3 s; the running one shows its phase and work. */
export function RoundsLive({ slug }: { slug: string }) {
  const [rounds, setRounds] = useState<RoundsLiveQuery['rounds'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const data = await call(RoundsLiveQueryDoc, { slug });
        if (!stopped) {
          setRounds(data.rounds);
          setError(null);
        }
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void load();
    const timer = setInterval(() => void load(), 3000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [slug]);
  if (error)
    return (
      <p role="alert" className="error">
        Cannot load rounds: {error}
      </p>
    );
  if (!rounds) return <p>Loading rounds…</p>;
  if (rounds.length === 0) return <p>No rounds yet. Start a campaign to run the first.</p>;
  return (
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
            {r.evalAsked > 0 && ` (${r.evalAsked} of them a random eval sample)`} · {r.autoAccepted}{' '}
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
  );
}
