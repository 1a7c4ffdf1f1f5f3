import { redirect } from 'next/navigation';
import { Forbidden } from '../../../src/components/forbidden.tsx';
import { NewProjectForm } from '../../../src/components/new-project-form.tsx';
import { graphql } from '../../../src/generated/gql.ts';
import { GraphQLRequestError } from '../../../src/lib/errors.ts';
import { request } from '../../../src/lib/graphql.ts';

export const dynamic = 'force-dynamic';

const MayCreate = graphql(`
  query NewProjectPage {
    viewer {
      user {
        id
      }
      mayCreateProjects
    }
  }
`);

export default async function NewProject() {
  let data;
  try {
    data = await request(MayCreate);
  } catch (error) {
    if (error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED')
      redirect('/login');
    throw error;
  }
  if (!data.viewer.user) redirect('/login');
  if (!data.viewer.mayCreateProjects) return <Forbidden what="creating projects" />;
  return (
    <>
      <h1>New project</h1>
      <p className="muted">
        One project per inspection task: its images, its classes, its budget. You become its admin
        and can invite annotators in its settings. Next come the images.
      </p>
      <NewProjectForm />
    </>
  );
}
