'use client';

import { useState } from 'react';
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
