import { notFound } from 'next/navigation';
import { EmbeddingMap } from '../../../../src/components/embedding-map.tsx';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import { graphql } from '../../../../src/generated/gql.ts';
import { request } from '../../../../src/lib/graphql.ts';
import { projectPage } from '../../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

const MapQuery = graphql(`
  query EmbeddingMapPage($slug: String!) {
    embeddingMap(project: $slug, limit: 3000) {
      explained
      total
      points {
        itemId
        x
        y
        split
        labelClassId
        labelSource
        predictedClassId
      }
    }
  }
`);

export default async function MapPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { project, allowed, missing } = await projectPage(slug, 'items');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="the dataset explorer" />;
  const { embeddingMap } = await request(MapQuery, { slug });
  return (
    <>
      <h1>Embedding map · {project.name}</h1>
      {embeddingMap.points.length === 0 ? (
        <p>No vectors yet: the map appears once a head has been trained and the images indexed.</p>
      ) : (
        <>
          <p className="muted">
            {embeddingMap.points.length.toLocaleString('en')} of{' '}
            {embeddingMap.total.toLocaleString('en')} items, first two principal components of the
            active head's vectors ({Math.round(embeddingMap.explained * 100)}% of the variance).
            Drag a box to select; hover for the image.
          </p>
          <EmbeddingMap slug={slug} points={embeddingMap.points} classes={project.classes} />
        </>
      )}
    </>
  );
}
