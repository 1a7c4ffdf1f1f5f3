'use client';

import { useEffect, useState, type FormEvent } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { graphql } from '../generated/gql.ts';
import type { EncoderObjective, EncoderTrainingLiveQuery } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { formatDuration } from '../lib/format.ts';
import { useAction } from '../lib/use-action.tsx';

const TrainingLive = graphql(`
  query EncoderTrainingLive($slug: String!) {
    project(slug: $slug) {
      encoderTraining {
        running
        phase
        objective
        epochs
        images
        skippedCount
        skipped {
          itemId
          reason
        }
        inputWidth
        inputHeight
        channels
        lossCurve
        epoch
        step
        steps
        loss
        imagesPerSecond
        etaSeconds
        device
        attempt
        resumedAfterEpoch
        embedded
        embedTotal
        note
        startedAt
        endedAt
        encoderVersion {
          name
        }
      }
    }
  }
`);
const Train = graphql(`
  mutation TrainEncoder(
    $slug: String!
    $objective: EncoderObjective!
    $epochs: Int!
    $inputSize: Int
  ) {
    trainEncoder(project: $slug, objective: $objective, epochs: $epochs, inputSize: $inputSize) {
      workflowId
    }
  }
`);
const Cancel = graphql(`
  mutation CancelEncoderTraining($slug: String!) {
    cancelEncoderTraining(project: $slug)
  }
`);
const Switch = graphql(`
  mutation SwitchEncoder($slug: String!, $id: ID!) {
    switchEncoder(project: $slug, encoderVersionId: $id) {
      id
    }
  }
`);

type Training = NonNullable<NonNullable<EncoderTrainingLiveQuery['project']>['encoderTraining']>;

/** Loss after each epoch (and the running epoch's so far), as a line. */
export function LossChart({ curve, current }: { curve: number[]; current?: number | null }) {
  const data = curve.map((loss, i) => ({ epoch: i + 1, loss }));
  if (current != null) data.push({ epoch: curve.length + 1, loss: current });
  if (data.length === 0)
    return <p className="muted">The loss curve appears after the first steps.</p>;
  return (
    <figure className="chart" data-testid="loss-chart">
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={data} margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="epoch"
            type="number"
            domain={[1, 'dataMax']}
            allowDecimals={false}
            label={{ value: 'epoch', position: 'insideBottom', offset: -12 }}
          />
          <YAxis domain={['auto', 'auto']} tickFormatter={(v: number) => v.toFixed(2)} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} />
          <Line
            type="monotone"
            dataKey="loss"
            name="training loss"
            stroke="#185a9d"
            strokeWidth={2}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
      <figcaption className="muted">
        Training loss per epoch
        {current != null ? ' (the last point: the running epoch so far)' : ''}.
      </figcaption>
    </figure>
  );
}

/** What the latest training is doing, refreshed every 2 s while it runs. */
function TrainingStatus({ training }: { training: Training }) {
  const live = training.phase === 'training' && training.epoch != null;
  return (
    <div data-testid="encoder-training" aria-live="polite">
      <p>
        <strong>
          {training.running ? 'Training' : 'Last training'}: {training.objective}, {training.epochs}{' '}
          epoch{training.epochs === 1 ? '' : 's'}
        </strong>{' '}
        · phase <span data-testid="training-phase">{training.phase}</span>
        {training.images != null && ` · ${training.images.toLocaleString('en')} images`}
        {training.inputWidth != null &&
          ` at ${training.inputWidth}×${training.inputHeight}, ${training.channels === 1 ? 'gray' : 'RGB'}`}
        {training.device && ` · on ${training.device}`}
      </p>
      {live && (
        <div className="progress">
          epoch {training.epoch}/{training.epochs}, step {training.step}/{training.steps}
          <progress
            value={(training.epoch! - 1) * training.steps! + training.step!}
            max={training.epochs * training.steps!}
            aria-label="training progress"
          />
          {training.loss != null && ` loss ${training.loss.toFixed(4)}`}
          {training.imagesPerSecond != null &&
            ` · ${Math.round(training.imagesPerSecond)} images/s`}
          {training.etaSeconds != null && ` · about ${formatDuration(training.etaSeconds)} left`}
          {(training.attempt ?? 1) > 1 &&
            ` · attempt ${training.attempt} (resumed from its last epoch)`}
        </div>
      )}
      {training.phase === 'embedding' && (
        <div className="progress">
          embedding every item with the new encoder: {training.embedded.toLocaleString('en')}
          {training.embedTotal != null && (
            <progress
              value={training.embedded}
              max={training.embedTotal}
              aria-label="embedding progress"
            />
          )}
        </div>
      )}
      <LossChart curve={training.lossCurve} current={live ? training.loss : null} />
      {training.skippedCount > 0 && (
        <details>
          <summary>{training.skippedCount} images could not be decoded and were left out</summary>
          <ul>
            {training.skipped.map((s) => (
              <li key={s.itemId}>{s.reason}</li>
            ))}
          </ul>
        </details>
      )}
      {training.note && <p className="muted">{training.note}</p>}
      {training.encoderVersion && <p>Encoder: {training.encoderVersion.name}</p>}
    </div>
  );
}

/** Start a training (objective, epochs, input size), watch it, cancel it. */
export function EncoderTrainingPanel({ slug }: { slug: string }) {
  const [training, setTraining] = useState<Training | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const { busy, run, note } = useAction();
  const running = training?.running ?? false;
  // Loaded once, then every 2 s while a training runs; its end changes the project's encoder,
  // so the page is shown anew.
  useEffect(() => {
    let stopped = false;
    let wasRunning = false;
    const load = async () => {
      try {
        const current = (await call(TrainingLive, { slug })).project?.encoderTraining ?? null;
        if (stopped) return;
        setTraining(current);
        setError(null);
        if (wasRunning && current && !current.running) window.location.reload();
        wasRunning = current?.running ?? false;
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void load();
    const timer = setInterval(() => {
      if (wasRunning) void load();
    }, 2000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [slug, running]);

  const start = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const inputSize = String(form.get('inputSize') ?? '').trim();
    void run(
      async () => {
        await call(Train, {
          slug,
          objective: form.get('objective') as EncoderObjective,
          epochs: Number(form.get('epochs')),
          inputSize: inputSize ? Number(inputSize) : null,
        });
        const data = await call(TrainingLive, { slug });
        setTraining(data.project?.encoderTraining ?? null);
      },
      'Training started.',
      false,
    );
  };

  return (
    <>
      {error && (
        <p role="alert" className="error">
          Cannot load the training&apos;s progress: {error}
        </p>
      )}
      {training === undefined && <p>Loading the latest training…</p>}
      {training && <TrainingStatus training={training} />}
      {running ? (
        <div className="actions">
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              run(
                () => call(Cancel, { slug }),
                'Cancel requested; the project keeps its encoder.',
                false,
              )
            }
          >
            Cancel training
          </button>
        </div>
      ) : (
        <form className="inline-form" onSubmit={start} aria-label="train an encoder">
          <label>
            Objective
            <select name="objective" defaultValue="SIMCLR">
              <option value="SIMCLR">Contrastive (SimCLR), the default</option>
              <option value="AE">Autoencoder</option>
              <option value="DAE">Denoising autoencoder</option>
              <option value="FINETUNE">
                Fine-tune the current encoder with the labels (after a few hundred)
              </option>
            </select>
          </label>
          <label>
            Epochs
            <input name="epochs" type="number" min={1} max={500} defaultValue={10} required />
          </label>
          <label>
            Input size (px, optional)
            <input
              name="inputSize"
              type="number"
              min={16}
              max={224}
              placeholder="from the images"
            />
          </label>
          <button type="submit" disabled={busy}>
            Train encoder
          </button>
        </form>
      )}
      {note}
    </>
  );
}

/** Makes an earlier encoder of the project the one it uses (a rollback). */
export function UseEncoder({ slug, id, name }: { slug: string; id: string; name: string }) {
  const { busy, run, note } = useAction();
  return (
    <>
      <button
        type="button"
        disabled={busy}
        onClick={() => run(() => call(Switch, { slug, id }), `Switched to ${name}.`)}
      >
        Use this encoder
      </button>
      {note}
    </>
  );
}
