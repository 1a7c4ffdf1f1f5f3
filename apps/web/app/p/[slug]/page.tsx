import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { AutoRefresh } from '../../../src/components/auto-refresh.tsx';
import { Forbidden } from '../../../src/components/forbidden.tsx';
import { AddBudgetForm } from '../../../src/components/manager-actions.tsx';
import { graphql } from '../../../src/generated/gql.ts';
import { formatDuration } from '../../../src/lib/format.ts';
import { request } from '../../../src/lib/graphql.ts';
import { PAGES, projectPage } from '../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

const Overview = graphql(`
  query ProjectOverview($slug: String!) {
    project(slug: $slug) {
      description
      itemCounts {
        total
        pool
        eval
        gold
        labeled
        evalLabeled
      }
      evalLabelsNeeded
      evalLabelTarget
      encoderVersion {
        name
      }
      encoderTraining {
        running
        phase
        epoch
        epochs
        step
        steps
        etaSeconds
        embedded
        embedTotal
      }
    }
    budget(project: $slug) {
      total
      spent
      remaining
    }
    nearDuplicateItems: items(project: $slug, filter: { nearDuplicate: true }, first: 1) {
      totalCount
    }
    rounds(project: $slug) {
      number
      status
    }
    campaign(project: $slug) {
      status
    }
  }
`);

function Step({
  done,
  title,
  children,
  testId,
}: {
  done: boolean;
  title: string;
  children: ReactNode;
  testId: string;
}) {
  return (
    <li className={done ? 'step done' : 'step'} data-testid={testId} data-done={done}>
      <span className="mark" aria-hidden="true">
        {done ? '✓' : '○'}
      </span>
      <div>
        <strong>
          {title}
          <span className="visually-hidden">{done ? ' (done)' : ' (to do)'}</span>
        </strong>
        <div>{children}</div>
      </div>
    </li>
  );
}

export default async function ProjectHome({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { project, role, allowed, missing } = await projectPage(slug, 'overview');
  if (missing) notFound();
  if (!allowed || !project || !role) return <Forbidden what="this project" />;
  const manages = PAGES.dashboard.includes(role);
  const links = (
    <nav aria-label="Project pages" className="project-links">
      {PAGES.label.includes(role) && <Link href={`/p/${slug}/label`}>Label</Link>}
      {PAGES.review.includes(role) && <Link href={`/p/${slug}/review`}>Review</Link>}
      {PAGES.items.includes(role) && <Link href={`/p/${slug}/items`}>Explore</Link>}
      {PAGES.items.includes(role) && <Link href={`/p/${slug}/map`}>Map</Link>}
      {manages && <Link href={`/p/${slug}/dashboard`}>Dashboard</Link>}
      {PAGES.upload.includes(role) && <Link href={`/p/${slug}/upload`}>Add images</Link>}
      {PAGES.encoder.includes(role) && <Link href={`/p/${slug}/encoder`}>Encoder</Link>}
      {PAGES.settings.includes(role) && <Link href={`/p/${slug}/settings`}>Settings</Link>}
    </nav>
  );
  if (!manages) {
    return (
      <>
        <h1>{project.name}</h1>
        {links}
      </>
    );
  }
  const data = await request(Overview, { slug });
  const counts = data.project!.itemCounts;
  const training = data.project!.encoderTraining;
  const evalWanted = data.project!.evalLabelsNeeded;
  const evalTarget = data.project!.evalLabelTarget;
  const steps = {
    images: counts.pool > 0,
    eval: counts.evalLabeled >= evalWanted,
    encoder: !!data.project!.encoderVersion,
    budget: data.budget.total > 0,
    round: data.rounds.length > 0,
  };
  const remaining = Object.values(steps).filter((done) => !done).length;
  return (
    <>
      <h1>{project.name}</h1>
      {data.project!.description && <p>{data.project!.description}</p>}
      {links}
      {(training?.running || (data.campaign?.status === 'RUNNING' && data.rounds.length === 0)) && (
        <AutoRefresh />
      )}
      <section aria-labelledby="steps-title">
        <h2 id="steps-title">
          {remaining === 0 ? 'Set up: all done' : `Next steps (${remaining} left)`}
        </h2>
        <ol className="checklist" data-testid="checklist">
          <Step done={steps.images} title="Add images" testId="step-images">
            {counts.pool.toLocaleString('en')} pool images
            {counts.gold > 0 && `, ${counts.gold.toLocaleString('en')} gold`}.{' '}
            {data.nearDuplicateItems.totalCount > 0 && (
              <>
                <Link href={`/p/${slug}/items?duplicate=yes`} data-testid="near-duplicate-count">
                  {data.nearDuplicateItems.totalCount.toLocaleString('en')} nearly duplicate an
                  earlier image
                </Link>
                .{' '}
              </>
            )}
            <Link href={`/p/${slug}/upload`}>
              {steps.images ? 'Add more images' : 'Upload images'}
            </Link>
          </Step>
          <Step done={steps.eval} title="Label a held-out eval set" testId="step-eval">
            {counts.evalLabeled.toLocaleString('en')} of {counts.eval.toLocaleString('en')} eval
            images labeled; quality figures start at {evalWanted} (5 per class).
            {evalTarget > counts.evalLabeled &&
              ` Rounds ask for a random sample of eval images (counted in the budget) until ${evalTarget} are labeled; labeled ones you upload count too.`}{' '}
            <Link href={`/p/${slug}/upload?split=EVAL&labels=folders`}>
              Upload labeled eval images
            </Link>
          </Step>
          <Step done={steps.encoder} title="Train the encoder" testId="step-encoder">
            {data.project!.encoderVersion ? (
              <>In use: {data.project!.encoderVersion.name}. </>
            ) : training?.running ? (
              <span data-testid="step-encoder-progress">
                Training: {training.phase}
                {training.epoch != null &&
                  `, epoch ${training.epoch}/${training.epochs}, step ${training.step}/${training.steps}`}
                {training.etaSeconds != null &&
                  `, about ${formatDuration(training.etaSeconds)} left`}
                {training.phase === 'embedding' &&
                  `, ${training.embedded.toLocaleString('en')}${training.embedTotal != null ? ` / ${training.embedTotal.toLocaleString('en')}` : ''} images embedded`}
                .{' '}
              </span>
            ) : (
              <>Self-supervised, on the pool images; no labels needed. </>
            )}
            <Link href={`/p/${slug}/encoder`}>
              {steps.encoder ? 'Encoder page' : training?.running ? 'Watch it' : 'Train it'}
            </Link>
          </Step>
          <Step done={steps.budget} title="Set a label budget" testId="step-budget">
            {data.budget.total.toLocaleString('en')} labels budgeted,{' '}
            {data.budget.remaining.toLocaleString('en')} left.
            <AddBudgetForm slug={slug} />
          </Step>
          <Step done={steps.round} title="Start the first round" testId="step-round">
            {steps.round
              ? `${data.rounds.length} round${data.rounds.length === 1 ? '' : 's'} so far; campaign ${data.campaign?.status.toLowerCase() ?? 'none'}. `
              : 'A campaign runs rounds until the budget or the quality target is reached. '}
            <Link href={`/p/${slug}/dashboard`}>
              {steps.round ? 'Dashboard' : 'Start a campaign on the dashboard'}
            </Link>
          </Step>
        </ol>
      </section>
    </>
  );
}
