'use client';

import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

interface Snapshot {
  roundNumber?: number | null;
  humanLabels: number;
  macroF1: number;
  accuracy: number;
}

/** Macro-F1 and accuracy on the eval split against human labels spent. */
export function QualityChart({ snapshots }: { snapshots: Snapshot[] }) {
  const points = new Map<number, { labels: number; project?: number; accuracy?: number }>();
  for (const s of snapshots)
    points.set(s.humanLabels, {
      ...points.get(s.humanLabels),
      labels: s.humanLabels,
      project: s.macroF1,
      accuracy: s.accuracy,
    });
  const data = [...points.values()].sort((a, b) => a.labels - b.labels);
  return (
    <figure className="chart" data-testid="quality-chart">
      <ResponsiveContainer width="100%" height={280}>
        <LineChart data={data} margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="labels"
            type="number"
            scale="log"
            domain={['dataMin', 'dataMax']}
            ticks={data.map((d) => d.labels)}
            label={{ value: 'human labels (log scale)', position: 'insideBottom', offset: -12 }}
          />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => v.toFixed(1)} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
          <Legend verticalAlign="top" />
          <Line
            type="monotone"
            dataKey="project"
            name="this project: macro-F1"
            stroke="#185a9d"
            strokeWidth={2}
            connectNulls
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey="accuracy"
            name="accuracy"
            stroke="#6a8caf"
            strokeDasharray="4 2"
            connectNulls
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
      <figcaption className="muted">
        Eval macro-F1 after each round, by human labels spent.
      </figcaption>
    </figure>
  );
}

/**
 * Budget burn-down: labels left after each evaluated round, then the rounds the rest pays for
 * at the project's round size (the forecast, drawn lighter).
 */
export function BudgetChart({
  total,
  snapshots,
  roundSize,
  remaining,
}: {
  total: number;
  snapshots: Snapshot[];
  roundSize: number;
  remaining: number;
}) {
  const done = snapshots.map((s, i) => ({
    round: `round ${s.roundNumber ?? i + 1}`,
    left: total - s.humanLabels,
    forecast: 0,
  }));
  const last = snapshots.at(-1);
  const forecast = [];
  let left = remaining;
  for (let i = 1; left > 0 && i <= 12; i++) {
    left = Math.max(0, left - roundSize);
    forecast.push({ round: `+${i}`, left: 0, forecast: left });
  }
  if (done.length === 0 && forecast.length === 0) return null;
  return (
    <figure className="chart" data-testid="budget-chart">
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={[...done, ...forecast]} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="round" />
          <YAxis />
          <Tooltip />
          <ReferenceLine y={0} stroke="#1d2428" />
          <Bar
            dataKey="left"
            name="labels left"
            fill="#185a9d"
            stackId="b"
            isAnimationActive={false}
          />
          <Bar
            dataKey="forecast"
            name="forecast"
            fill="#a9c4de"
            stackId="b"
            isAnimationActive={false}
          />
        </BarChart>
      </ResponsiveContainer>
      <figcaption className="muted">
        Budget left after each round
        {last
          ? ` (${total - last.humanLabels} after round ${last.roundNumber ?? snapshots.length})`
          : ''}
        ; lighter bars: the rounds the remaining {remaining} labels pay for at {roundSize} per
        round.
      </figcaption>
    </figure>
  );
}
