import Link from 'next/link';
import { notFound } from 'next/navigation';
import {
  EncoderTrainingPanel,
  LossChart,
  UseEncoder,
} from '../../../../src/components/encoder-training.tsx';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import { graphql } from '../../../../src/generated/gql.ts';
import { request } from '../../../../src/lib/graphql.ts';
import { projectPage } from '../../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

const EncoderPage = graphql(`
  query EncoderPage($slug: String!) {
    project(slug: $slug) {
      itemCounts {
        pool
      }
      encoderVersion {
        id
      }
      activeHeadVersion {
        id
      }
      encoders {
        id
        name
        objective
        dims
        inputWidth
        inputHeight
        channels
        trainingImages
        epochSeconds
        device
        lossCurve
        createdAt
      }
      encoderTraining {
        running
      }
    }
  }
`);

export default async function EncoderSettings({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { project, allowed, missing } = await projectPage(slug, 'encoder');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="the project's encoder" />;
  const data = (await request(EncoderPage, { slug })).project!;
  const current = data.encoderVersion?.id ?? null;
  return (
    <>
      <h1>Encoder · {project.name}</h1>
      {!current && (
        <p className="callout" role="status" data-testid="no-encoder">
          This project has no encoder yet, so its images cannot be embedded, classified or queued
          for labeling. Train one on its {data.itemCounts.pool.toLocaleString('en')} pool images
          below; once trained, every image is embedded and the first round can start.
        </p>
      )}
      {current && !data.activeHeadVersion && !data.encoderTraining?.running && (
        <p className="callout" role="status" data-testid="next-step">
          The encoder is ready. Next: give the project a label budget and start a campaign on the{' '}
          <Link href={`/p/${slug}/dashboard`}>dashboard</Link>; its first round picks images to
          label, and each round after it trains the model on the new encoder&apos;s features.
        </p>
      )}
      <section aria-labelledby="train-title">
        <h2 id="train-title">Train an encoder on this project&apos;s images</h2>
        <p className="muted">
          Self-supervised: no labels needed. The project switches to the new encoder once every
          image is embedded with it and no round is running; heads trained on the old one are
          retired and the next round trains one on the new features. Labels stay.
        </p>
        <EncoderTrainingPanel slug={slug} />
      </section>
      <section aria-labelledby="encoders-title">
        <h2 id="encoders-title">Encoders</h2>
        {data.encoders.length === 0 ? (
          <p>None yet.</p>
        ) : (
          <ul className="encoders" data-testid="encoders">
            {data.encoders.map((e) => {
              const perEpoch = e.epochSeconds.length
                ? e.epochSeconds.reduce((a, b) => a + b, 0) / e.epochSeconds.length
                : null;
              return (
                <li key={e.id}>
                  <strong>{e.name}</strong>
                  {e.id === current && ' · in use'} · {e.objective ?? 'objective not recorded'} ·{' '}
                  {e.inputWidth}×{e.inputHeight} {e.channels === 1 ? 'gray' : 'RGB'} → {e.dims}-d
                  {e.trainingImages != null && ` · ${e.trainingImages.toLocaleString('en')} images`}
                  {e.lossCurve.length > 0 && ` · ${e.lossCurve.length} epochs`}
                  {perEpoch != null &&
                    `, ${perEpoch.toFixed(0)} s each on ${e.device ?? '?'}`} ·{' '}
                  {new Date(e.createdAt).toLocaleString('en')}
                  {e.id !== current && <UseEncoder slug={slug} id={e.id} name={e.name} />}
                  {e.lossCurve.length > 1 && <LossChart curve={e.lossCurve} />}
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </>
  );
}
