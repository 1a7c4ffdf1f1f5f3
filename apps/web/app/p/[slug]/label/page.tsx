import { notFound } from 'next/navigation';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import { LabelingQueue } from '../../../../src/components/labeling-queue.tsx';
import { projectPage } from '../../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

export default async function LabelPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { project, allowed, missing } = await projectPage(slug, 'label');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="labeling" />;
  return (
    <>
      <h1>Label · {project.name}</h1>
      <LabelingQueue slug={slug} classes={project.classes} />
    </>
  );
}
