'use client';

import { useState } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceDot,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { graphql } from '../generated/gql.ts';
import { call } from '../lib/client.ts';
import { previewAt, type PrPoint } from '../lib/threshold.ts';

const SetTarget = graphql(`
  mutation SetTarget($slug: String!, $target: Float!) {
    setAutoAcceptPrecisionTarget(project: $slug, target: $target) {
      autoAcceptPrecisionTarget
    }
  }
`);

/**
 * A slider for the auto-accept precision target that shows, before saving, the confidence
 * threshold it implies, the precision measured there on held-out human labels and how many
 * pool images it would label: read off the active head's predictions, no retraining.
 */
export function ThresholdPreview({
  slug,
  points,
  current,
}: {
  slug: string;
  points: PrPoint[];
  current: number;
}) {
  const [target, setTarget] = useState(current);
  const [saved, setSaved] = useState(current);
  const [error, setError] = useState<string | null>(null);
  if (points.length === 0) {
    return <p>No held-out human labels with predictions yet; the preview appears after a round.</p>;
  }
  const preview = previewAt(points, target);
  return (
    <div className="threshold">
      <label htmlFor="precision-target">
        Precision target: <output data-testid="target">{(target * 100).toFixed(1)}%</output>
      </label>
      <input
        id="precision-target"
        type="range"
        min={0.5}
        max={1}
        step={0.005}
        value={target}
        onChange={(e) => setTarget(Number(e.target.value))}
      />
      <figure className="chart" data-testid="pr-curve">
        <ResponsiveContainer width="100%" height={220}>
          <LineChart
            data={[...points].reverse()}
            margin={{ top: 8, right: 24, bottom: 24, left: 8 }}
          >
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              dataKey="recall"
              type="number"
              domain={[0, 1]}
              tickFormatter={(v: number) => `${Math.round(v * 100)}%`}
              label={{
                value: 'share of held-out labels accepted',
                position: 'insideBottom',
                offset: -12,
              }}
            />
            <YAxis domain={[0.5, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
            <Tooltip
              formatter={(v) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : String(v))}
            />
            <ReferenceLine y={target} stroke="#b5651d" strokeDasharray="4 2" />
            <Line
              type="stepAfter"
              dataKey="precision"
              name="precision"
              stroke="#185a9d"
              dot={false}
              isAnimationActive={false}
            />
            {preview && (
              <ReferenceDot x={preview.recall} y={preview.precision} r={5} fill="#b5651d" />
            )}
          </LineChart>
        </ResponsiveContainer>
        <figcaption className="muted">
          Precision against how much auto-accept would take, on held-out human labels; the dashed
          line is the target.
        </figcaption>
      </figure>
      <p data-testid="auto-preview" aria-live="polite">
        {preview
          ? `Would auto-label ${preview.count} pool images (confidence ≥ ${preview.threshold.toFixed(3)}, measured precision ${(preview.precision * 100).toFixed(1)}% on ${Math.round(preview.recall * 100)}% of held-out labels).`
          : 'No confidence threshold reaches this precision yet: nothing would be auto-labeled.'}
      </p>
      <button
        type="button"
        disabled={target === saved}
        onClick={async () => {
          try {
            const r = await call(SetTarget, { slug, target });
            setSaved(r.setAutoAcceptPrecisionTarget.autoAcceptPrecisionTarget);
            setError(null);
          } catch (e) {
            setError((e as Error).message);
          }
        }}
      >
        Save target
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
