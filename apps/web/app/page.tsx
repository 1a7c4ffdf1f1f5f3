import Link from 'next/link';
import { redirect } from 'next/navigation';
import { graphql } from '../src/generated/gql.ts';
import { GraphQLRequestError } from '../src/lib/errors.ts';
import { request } from '../src/lib/graphql.ts';
import { PAGES, type Role } from '../src/lib/session.ts';

export const dynamic = 'force-dynamic';

const ProjectsPage = graphql(`
  query ProjectsPage {
    viewer {
      mayCreateProjects
    }
    projects {
      id
      slug
      name
      description
      myRole
      encoderVersion {
        id
      }
      itemCounts {
        total
        pool
        eval
        labeled
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
    if (error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED')
      redirect('/login');
    if (!(error instanceof GraphQLRequestError)) throw error;
    return <p className="error">Cannot load projects: {error.message}</p>;
  }
  const create = data.viewer.mayCreateProjects && (
    <p>
      <Link href="/projects/new" className="button">
        New project
      </Link>
    </p>
  );
  if (data.projects.length === 0) {
    return (
      <>
        <h1>Projects</h1>
        <p>
          No projects you can see yet.{' '}
          {data.viewer.mayCreateProjects
            ? 'Create the first one: name it, name its classes, then drop its images.'
            : 'A project admin can add you to one.'}
        </p>
        {create}
      </>
    );
  }
  return (
    <>
      <h1>Projects</h1>
      {create}
      <ul className="projects">
        {data.projects.map((p) => {
          const role = (p.myRole ?? 'ADMIN') as Role;
          return (
            <li key={p.id}>
              <h2>
                <Link href={`/p/${p.slug}`}>{p.name}</Link>
              </h2>
              <p>{p.description}</p>
              <p>
                {p.itemCounts.total.toLocaleString('en')} items (
                {p.itemCounts.labeled.toLocaleString('en')} labeled) · you are {role.toLowerCase()}
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
              <nav aria-label={`${p.name} pages`} className="project-links">
                {PAGES.label.includes(role) && <Link href={`/p/${p.slug}/label`}>Label</Link>}
                {PAGES.items.includes(role) && <Link href={`/p/${p.slug}/items`}>Explore</Link>}
                {PAGES.items.includes(role) && <Link href={`/p/${p.slug}/map`}>Map</Link>}
                {PAGES.dashboard.includes(role) && (
                  <Link href={`/p/${p.slug}/dashboard`}>Dashboard</Link>
                )}
                {PAGES.encoder.includes(role) && (
                  <Link href={`/p/${p.slug}/encoder`}>
                    {p.encoderVersion ? 'Encoder' : 'Train the encoder (none yet)'}
                  </Link>
                )}
                {PAGES.settings.includes(role) && (
                  <Link href={`/p/${p.slug}/settings`}>Settings</Link>
                )}
              </nav>
            </li>
          );
        })}
      </ul>
    </>
  );
}
