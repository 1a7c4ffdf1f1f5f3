import { graphql } from '../src/generated/gql.ts';
import { GraphQLRequestError, request } from '../src/lib/graphql.ts';

export const dynamic = 'force-dynamic';

const ProjectsPage = graphql(`
  query ProjectsPage {
    projects {
      id
      slug
      name
      description
      itemCounts {
        total
        pool
        eval
      }
      classes {
        id
        name
        colour
        retired
      }
    }
  }
`);

export default async function Home() {
  let data;
  try {
    data = await request(ProjectsPage);
  } catch (error) {
    if (!(error instanceof GraphQLRequestError)) throw error;
    return <p className="error">Cannot load projects: {error.message}</p>;
  }
  if (data.projects.length === 0) {
    return (
      <p>
        No projects yet. Import one with <code>npm run cli -- import fashion-mnist</code>.
      </p>
    );
  }
  return (
    <>
      <h1>Projects</h1>
      <ul className="projects">
        {data.projects.map((p) => (
          <li key={p.id}>
            <h2>{p.name}</h2>
            <p>{p.description}</p>
            <p>
              {p.itemCounts.total.toLocaleString('en')} items:{' '}
              {p.itemCounts.pool.toLocaleString('en')} pool,{' '}
              {p.itemCounts.eval.toLocaleString('en')} eval
            </p>
            <ul className="classes" aria-label={`${p.name} classes`}>
              {p.classes
                .filter((c) => !c.retired)
                .map((c) => (
                  <li key={c.id} style={{ background: c.colour }}>
                    {c.name}
                  </li>
                ))}
            </ul>
          </li>
        ))}
      </ul>
    </>
  );
}
