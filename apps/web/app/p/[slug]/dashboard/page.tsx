import Link from 'next/link';
import { notFound } from 'next/navigation';
import { ConfusionMatrix } from '../../../../src/components/confusion-matrix.tsx';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import {
  AddBudgetForm,
  CampaignControls,
  ModelActions,
} from '../../../../src/components/manager-actions.tsx';
import { BudgetChart, QualityChart } from '../../../../src/components/quality-chart.tsx';
import { LiveRefresh } from '../../../../src/components/live-refresh.tsx';
import { RoundsLive } from '../../../../src/components/rounds-live.tsx';
import { ThresholdPreview } from '../../../../src/components/threshold-preview.tsx';
import { graphql } from '../../../../src/generated/gql.ts';
import { request } from '../../../../src/lib/graphql.ts';
import { roundsToTarget } from '../../../../src/lib/forecast.ts';
import { projectPage } from '../../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

const Dashboard = graphql(`
  query Dashboard($slug: String!) {
    project(slug: $slug) {
      simulation
      goldAccuracyWarning
      evalLabelTarget
      evalLabelsNeeded
      itemCounts {
        evalLabeled
      }
      searchHeadVersion {
        id
      }
    }
    budget(project: $slug) {
      total
      spent
      reserved
      remaining
      labelsPerHour
      roundsLeft
      agreement {
        items
        agreeing
      }
      perAnnotator {
        user {
          name
          email
        }
        labels
        skipped
        labelsPerHour
        quality {
          goldAnswered
          goldCorrect
          goldAccuracy
          belowGoldLevel
          minGoldAnswers
          compared
          agreement
        }
      }
    }
    campaign(project: $slug) {
      status
      stopReason
    }
    labelHealth(project: $slug) {
      open
      kept
      relabeled
      sent
    }
    metrics(project: $slug) {
      snapshots {
        roundNumber
        humanLabels
        macroF1
        accuracy
        truth
      }
      latest {
        macroF1
        truth
        evaluated
        perClass {
          labelClass {
            name
          }
          precision
          recall
          f1
          support
        }
        confusion
      }
      precisionRecall {
        threshold
        precision
        recall
        count
      }
    }
    encoderVersions {
      name
      dims
      createdAt
    }
    headVersions(project: $slug) {
      id
      kind
      status
      note
      roundNumber
      macroF1
      createdAt
      active
      searchIndex
    }
  }
`);

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export default async function DashboardPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { project, allowed, missing } = await projectPage(slug, 'dashboard');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="the manager dashboard" />;
  const data = await request(Dashboard, { slug });
  const { budget, metrics } = data;
  const classNames = project.classes.map((c) => c.name);
  const target = project.targetMacroF1 ?? null;
  const toTarget = roundsToTarget(metrics.snapshots, target);
  const belowGold = budget.perAnnotator.filter((a) => a.quality?.belowGoldLevel);
  return (
    <>
      <h1>Dashboard · {project.name}</h1>
      <LiveRefresh slug={slug} />
      {/* Key figures and charts first: a grid from 1280 px on, one column below. */}
      <div className="dashboard-grid" data-testid="dashboard-grid">
        <section aria-labelledby="budget-title" className="card" data-testid="card-budget">
          <h2 id="budget-title">Label budget</h2>
          <dl className="stats" data-testid="budget">
            <div>
              <dt>Total</dt>
              <dd data-testid="budget-total">{budget.total}</dd>
            </div>
            <div>
              <dt>Spent</dt>
              <dd data-testid="budget-spent">{budget.spent}</dd>
            </div>
            <div>
              <dt>Left to spend</dt>
              <dd data-testid="budget-unspent">{budget.total - budget.spent}</dd>
            </div>
            <div>
              <dt>Reserved by open tasks</dt>
              <dd>{budget.reserved}</dd>
            </div>
            <div>
              <dt>Free for new rounds</dt>
              <dd>{budget.remaining}</dd>
            </div>
            <div>
              <dt>Rounds left</dt>
              <dd>{budget.roundsLeft}</dd>
            </div>
            <div>
              <dt>Labels / hour (24 h)</dt>
              <dd>{budget.labelsPerHour.toFixed(1)}</dd>
            </div>
          </dl>
          <BudgetChart
            total={budget.total}
            snapshots={metrics.snapshots}
            roundSize={project.roundSize}
            remaining={budget.remaining}
          />
          <AddBudgetForm slug={slug} />
        </section>

        <section aria-labelledby="quality-title" className="card" data-testid="card-quality">
          <h2 id="quality-title">Quality over rounds</h2>
          <EvaluationBasis
            simulation={data.project?.simulation ?? false}
            labeled={data.project?.itemCounts.evalLabeled ?? 0}
            needed={data.project?.evalLabelsNeeded ?? 0}
            target={data.project?.evalLabelTarget ?? 0}
            simulatedRounds={metrics.snapshots
              .filter((s) => s.truth === 'SIMULATED')
              .map((s) => s.roundNumber ?? 0)}
          />
          {metrics.snapshots.length === 0 ? (
            <p>No evaluations yet: the first evaluated round appears here.</p>
          ) : (
            <QualityChart snapshots={metrics.snapshots} />
          )}
          {target != null && (
            <p data-testid="target-forecast">
              {toTarget === 0
                ? `The target macro-F1 ${target} is reached.`
                : toTarget === null
                  ? `Target macro-F1 ${target}: no forecast yet (it needs two evaluated rounds with a gain between them).`
                  : `Target macro-F1 ${target}: about ${toTarget} more round${toTarget === 1 ? '' : 's'} at the last round's gain; the budget pays for ${budget.roundsLeft}.`}
            </p>
          )}
        </section>

        <section aria-labelledby="rounds-title" className="card" data-testid="card-rounds">
          <h2 id="rounds-title">Rounds</h2>
          <CampaignControls slug={slug} campaign={data.campaign} />
          <RoundsLive slug={slug} />
        </section>

        <section aria-labelledby="health-title" className="card" data-testid="card-health">
          <h2 id="health-title">Label health</h2>
          <p data-testid="agreement">
            {budget.agreement.items === 0
              ? 'No image has been labeled by two people yet, so there is no agreement figure.'
              : `Agreement: ${budget.agreement.agreeing} of ${budget.agreement.items} images labeled by two or more people got the same class (${pct(budget.agreement.agreeing / budget.agreement.items)}).`}
          </p>
          <dl className="stats">
            <div>
              <dt>People labeling</dt>
              <dd>{budget.perAnnotator.filter((a) => a.user).length}</dd>
            </div>
            <div>
              <dt>Skipped</dt>
              <dd>{budget.perAnnotator.reduce((sum, a) => sum + a.skipped, 0)}</dd>
            </div>
            <div>
              <dt>Flagged, to review</dt>
              <dd data-testid="flagged-open">{data.labelHealth.open}</dd>
            </div>
            <div>
              <dt>Reviewed: kept · relabeled · sent on</dt>
              <dd>
                {data.labelHealth.kept} · {data.labelHealth.relabeled} · {data.labelHealth.sent}
              </dd>
            </div>
          </dl>
          {data.labelHealth.open > 0 && (
            <p>
              <Link href={`/p/${slug}/review`}>Review the flagged labels</Link>
            </p>
          )}
          {belowGold.length > 0 && (
            <p className="callout" role="alert" data-testid="gold-warning">
              Below {pct(data.project?.goldAccuracyWarning ?? 0)} on gold questions:{' '}
              {belowGold
                .map(
                  (a) =>
                    `${a.user?.name ?? 'API'} (${a.quality!.goldCorrect} of ${a.quality!.goldAnswered})`,
                )
                .join(', ')}
              . Their labels may need a second look.
            </p>
          )}
        </section>
      </div>

      {metrics.latest && (
        <section aria-labelledby="latest-title">
          <h2 id="latest-title">
            Per class (latest round, macro-F1 {pct(metrics.latest.macroF1)} on{' '}
            {metrics.latest.evaluated} eval items
            {metrics.latest.truth === 'SIMULATED' ? ', simulated ground truth' : ''})
          </h2>
          <table className="per-class">
            <thead>
              <tr>
                <th scope="col">Class</th>
                <th scope="col">Precision</th>
                <th scope="col">Recall</th>
                <th scope="col">F1</th>
                <th scope="col">Support</th>
              </tr>
            </thead>
            <tbody>
              {metrics.latest.perClass.map((c) => (
                <tr key={c.labelClass.name}>
                  <th scope="row">{c.labelClass.name}</th>
                  <td>{pct(c.precision)}</td>
                  <td>{pct(c.recall)}</td>
                  <td>{pct(c.f1)}</td>
                  <td>{c.support}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Confusion matrix</h3>
          <ConfusionMatrix classes={classNames} matrix={metrics.latest.confusion} />
        </section>
      )}

      <section aria-labelledby="auto-title">
        <h2 id="auto-title">Auto-accept precision target</h2>
        <ThresholdPreview
          slug={slug}
          points={metrics.precisionRecall}
          current={project.autoAcceptPrecisionTarget}
        />
      </section>

      <section aria-labelledby="annotators-title">
        <h2 id="annotators-title">Annotators</h2>
        {budget.perAnnotator.length === 0 ? (
          <p>No human labels yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Labels</th>
                <th scope="col">Skipped</th>
                <th scope="col">Skip rate</th>
                <th scope="col">Labels / hour (24 h)</th>
                <th scope="col">Gold accuracy</th>
                <th scope="col">Agreement with others</th>
              </tr>
            </thead>
            <tbody>
              {budget.perAnnotator.map((a) => (
                <tr key={a.user?.email ?? 'api'}>
                  <th scope="row">{a.user ? a.user.name : 'No person (API keys, scripts)'}</th>
                  <td>{a.labels}</td>
                  <td>{a.skipped}</td>
                  <td>{a.labels + a.skipped ? pct(a.skipped / (a.labels + a.skipped)) : '—'}</td>
                  <td>{a.labelsPerHour.toFixed(1)}</td>
                  <td data-testid="gold-accuracy">
                    {a.quality?.goldAccuracy == null
                      ? '—'
                      : `${pct(a.quality.goldAccuracy)} (${a.quality.goldCorrect} of ${a.quality.goldAnswered})`}
                    {a.quality?.belowGoldLevel && ' ⚠ below the warning level'}
                  </td>
                  <td>
                    {a.quality?.agreement == null
                      ? '—'
                      : `${pct(a.quality.agreement)} of ${a.quality.compared}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="models-title">
        <h2 id="models-title">Model versions</h2>
        <ModelActions
          slug={slug}
          heads={data.headVersions}
          searchHeadId={data.project?.searchHeadVersion?.id ?? null}
        />
        <h3>Encoders</h3>
        <ul>
          {data.encoderVersions.map((e) => (
            <li key={e.name}>
              {e.name} ({e.dims}-d, registered {new Date(e.createdAt).toLocaleDateString('en')})
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

/** What the quality figures are measured against, so nobody mistakes a simulation for data. */
function EvaluationBasis(props: {
  simulation: boolean;
  labeled: number;
  needed: number;
  target: number;
  simulatedRounds: number[];
}) {
  const { simulation, labeled, needed, target, simulatedRounds } = props;
  return (
    <div data-testid="evaluation-basis">
      <p>
        Quality is measured on eval images labeled by people: {labeled} so far; figures start at{' '}
        {needed}
        {target > labeled
          ? `, and rounds ask for a random eval sample (counted in the budget) until ${target}.`
          : '.'}
      </p>
      {simulation && (
        <p className="callout" data-testid="simulation-notice">
          Simulation project: its images carry hidden ground truth for a simulated labeler.
          {simulatedRounds.length > 0 &&
            ` ${simulatedRounds.length === 1 ? 'Round' : 'Rounds'} ${simulatedRounds.join(', ')} ${simulatedRounds.length === 1 ? 'was' : 'were'} evaluated on that hidden truth (too few eval images labeled by people then): simulated figures, not measurements.`}
        </p>
      )}
    </div>
  );
}
