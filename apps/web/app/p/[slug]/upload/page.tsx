import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import { ImageUpload } from '../../../../src/components/image-upload.tsx';
import { graphql } from '../../../../src/generated/gql.ts';
import { request } from '../../../../src/lib/graphql.ts';
import { projectPage } from '../../../../src/lib/session.ts';
import type { LabelSource } from '../../../../src/lib/upload-plan.ts';
import type { Split } from '../../../../src/lib/uploader.ts';

export const dynamic = 'force-dynamic';

const Limits = graphql(`
  query UploadPage {
    uploadLimits {
      maxFiles
      maxFileBytes
      maxRequestBytes
    }
  }
`);

const SPLITS: Split[] = ['POOL', 'EVAL', 'GOLD'];
const LABELS: LabelSource[] = ['none', 'folders', 'csv'];

export default async function UploadPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ split?: string; labels?: string }>;
}) {
  const { slug } = await params;
  const query = await searchParams;
  const { project, allowed, missing } = await projectPage(slug, 'upload');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="adding images" />;
  const { uploadLimits } = await request(Limits);
  const split = SPLITS.find((s) => s === query.split?.toUpperCase()) ?? 'POOL';
  const labels = LABELS.find((l) => l === query.labels) ?? 'none';
  return (
    <>
      <h1>Add images · {project.name}</h1>
      <p className="muted">
        PNG or JPEG, up to {Math.round(uploadLimits.maxFileBytes / 1024 / 1024)} MiB each. Images
        the project already holds are recognised by their content and skipped, so an upload that
        stopped (a closed tab, a lost connection) resumes by choosing the same files again. Back to
        the <Link href={`/p/${slug}`}>project</Link>.
      </p>
      <ImageUpload
        slug={slug}
        limits={uploadLimits}
        classes={project.classes.filter((c) => !c.retired).map((c) => c.name)}
        initialSplit={split}
        initialLabels={labels}
      />
    </>
  );
}
