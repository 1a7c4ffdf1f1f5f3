import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Forbidden } from '../../../../../src/components/forbidden.tsx';
import { RelabelForm, RevertAutoLabel } from '../../../../../src/components/label-actions.tsx';
import { graphql } from '../../../../../src/generated/gql.ts';
import { request } from '../../../../../src/lib/graphql.ts';
import { projectPage } from '../../../../../src/lib/session.ts';
import { NeighbourStrip } from '../../../../../src/components/neighbour-strip.tsx';

export const dynamic = 'force-dynamic';

const ItemDetail = graphql(`
  query ItemDetail($id: ID!) {
    item(id: $id) {
      id
      split
      width
      height
      sourceRef
      imageDataUrl
      createdAt
      label {
        labelClass {
          id
          name
        }
        source
        confidence
      }
      labelHistory {
        id
        labelClass {
          name
        }
        source
        annotator {
          name
        }
        roundNumber
        confidence
        reason
        createdAt
      }
      prediction {
        labelClass {
          name
        }
        confidence
        margin
        entropy
        anomalyScore
      }
      nearDuplicateOf {
        id
      }
      nearDuplicates {
        id
      }
      neighbors(k: 12) {
        ...NeighbourThumb
      }
    }
  }
`);

export default async function ItemPage({
  params,
}: {
  params: Promise<{ slug: string; id: string }>;
}) {
  const { slug, id } = await params;
  const { project, role, allowed, missing } = await projectPage(slug, 'items');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="the dataset explorer" />;
  const { item } = await request(ItemDetail, { id });
  if (!item) notFound();
  const canRevert = role === 'ADMIN' || role === 'MANAGER';
  return (
    <>
      <p>
        <Link href={`/p/${slug}/items`}>← all items</Link>
      </p>
      <h1>Item {item.id.slice(0, 8)}</h1>
      <div className="item-detail">
        <img
          src={item.imageDataUrl}
          alt={`Item ${item.id.slice(0, 8)}`}
          className="pixelated"
          width={Math.max(item.width, 280)}
          height={Math.max(item.height, 280)}
        />
        <dl>
          <dt>Label</dt>
          <dd data-testid="current-label">
            {item.label
              ? `${item.label.labelClass?.name} (${item.label.source.toLowerCase()})`
              : 'unlabeled'}
          </dd>
          <dt>Prediction</dt>
          <dd>
            {item.prediction
              ? `${item.prediction.labelClass.name}, confidence ${item.prediction.confidence.toFixed(2)}, margin ${item.prediction.margin.toFixed(2)}, anomaly ${item.prediction.anomalyScore.toFixed(2)}`
              : 'not scored yet'}
          </dd>
          <dt>Split</dt>
          <dd>{item.split.toLowerCase()}</dd>
          <dt>Source</dt>
          <dd>{item.sourceRef ?? '—'}</dd>
          {(item.nearDuplicateOf || item.nearDuplicates.length > 0) && (
            <>
              <dt>Near-duplicates</dt>
              <dd data-testid="near-duplicates">
                {item.nearDuplicateOf && (
                  <>
                    nearly the same image as{' '}
                    <Link href={`/p/${slug}/items/${item.nearDuplicateOf.id}`}>
                      item {item.nearDuplicateOf.id.slice(0, 8)}
                    </Link>{' '}
                  </>
                )}
                {item.nearDuplicates.length > 0 && (
                  <>
                    copied by{' '}
                    {item.nearDuplicates.map((d, i) => (
                      <span key={d.id}>
                        {i > 0 && ', '}
                        <Link href={`/p/${slug}/items/${d.id}`}>item {d.id.slice(0, 8)}</Link>
                      </span>
                    ))}
                  </>
                )}
              </dd>
            </>
          )}
        </dl>
      </div>
      <section aria-labelledby="relabel-title">
        <h2 id="relabel-title">Change the label</h2>
        <RelabelForm itemId={item.id} classes={project.classes.filter((c) => !c.retired)} />
        {canRevert && item.label?.source === 'AUTO' && <RevertAutoLabel itemId={item.id} />}
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        {item.labelHistory.length === 0 ? (
          <p>No labels yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Label</th>
                <th scope="col">Source</th>
                <th scope="col">Who</th>
                <th scope="col">Round</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {item.labelHistory.map((l) => (
                <tr key={l.id}>
                  <td>{new Date(l.createdAt).toLocaleString('en')}</td>
                  <td>{l.labelClass?.name ?? 'withdrawn'}</td>
                  <td>
                    {l.source.toLowerCase()}
                    {l.confidence != null ? ` (${l.confidence.toFixed(2)})` : ''}
                  </td>
                  <td>{l.annotator?.name ?? '—'}</td>
                  <td>{l.roundNumber ?? '—'}</td>
                  <td>{l.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="neighbours-title">
        <h2 id="neighbours-title">Nearest items</h2>
        <NeighbourStrip slug={slug} neighbours={item.neighbors} />
      </section>
    </>
  );
}
