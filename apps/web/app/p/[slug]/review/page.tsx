import { notFound } from 'next/navigation';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import { AutoLabelReview } from '../../../../src/components/auto-label-review.tsx';
import { ReviewQueue } from '../../../../src/components/review-queue.tsx';
import { projectPage } from '../../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

export default async function ReviewPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { project, allowed, missing } = await projectPage(slug, 'review');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="reviewing labels" />;
  return (
    <>
      <h1>Review labels · {project.name}</h1>
      <p className="muted">
        After each round every label people gave or imported is compared with its twenty nearest
        labeled images, and with the labels other people gave the same image. First come images two
        people labeled differently, then the labels the neighbours confidently call something else,
        most suspect first.
      </p>
      <ReviewQueue slug={slug} classes={project.classes} />
      <section aria-labelledby="auto-review-title">
        <h2 id="auto-review-title">Auto labels, least confident first</h2>
        <AutoLabelReview slug={slug} classes={project.classes} />
      </section>
    </>
  );
}
