import { notFound } from 'next/navigation';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import {
  ApiKeys,
  ClassEditor,
  Members,
  SettingsForm,
} from '../../../../src/components/settings-forms.tsx';
import { Webhooks } from '../../../../src/components/webhooks.tsx';
import { graphql } from '../../../../src/generated/gql.ts';
import { request } from '../../../../src/lib/graphql.ts';
import { projectPage } from '../../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

const Settings = graphql(`
  query ProjectSettings($slug: String!) {
    project(slug: $slug) {
      name
      description
      k
      roundSize
      autoAcceptEnabled
      targetMacroF1
      promotionTolerance
      taskLeaseSeconds
      evalLabelTarget
      skipNearDuplicates
      linkNearDuplicates
      secondOpinions
      selectionStrategy
      goldRate
      goldAccuracyWarning
      encoderVersion {
        name
        dims
      }
    }
  }
`);

const Keys = graphql(`
  query ProjectApiKeys($slug: String!) {
    project(slug: $slug) {
      members {
        role
        user {
          name
          email
        }
      }
    }
    apiKeys(project: $slug) {
      id
      name
      role
      prefix
      createdAt
      lastUsedAt
      revoked
    }
  }
`);

const Hooks = graphql(`
  query ProjectWebhooks($slug: String!) {
    webhookEndpoints(project: $slug) {
      id
      url
      description
      events
      budgetBelow
      active
      deliveries(first: 10) {
        id
        event
        status
        attempts
        lastStatusCode
        lastError
        createdAt
        deliveredAt
        redeliveryOf
      }
    }
  }
`);

export default async function SettingsPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { project, role, allowed, missing } = await projectPage(slug, 'settings');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="project settings" />;
  const [{ project: settings }, keys, hooks] = await Promise.all([
    request(Settings, { slug }),
    role === 'ADMIN' ? request(Keys, { slug }) : Promise.resolve(null),
    request(Hooks, { slug }),
  ]);
  return (
    <>
      <h1>Settings · {project.name}</h1>
      <section aria-labelledby="settings-title">
        <h2 id="settings-title">Project</h2>
        <p className="muted">
          Encoder:{' '}
          {settings?.encoderVersion
            ? `${settings.encoderVersion.name} (${settings.encoderVersion.dims}-d)`
            : 'none yet'}
        </p>
        {settings && <SettingsForm slug={slug} settings={settings} />}
      </section>
      <section aria-labelledby="classes-title">
        <h2 id="classes-title">Label classes</h2>
        <ClassEditor slug={slug} classes={project.classes} />
      </section>
      {keys && (
        <section aria-labelledby="people-title">
          <h2 id="people-title">People</h2>
          <Members slug={slug} members={keys.project?.members ?? []} />
        </section>
      )}
      {keys && (
        <section aria-labelledby="keys-title">
          <h2 id="keys-title">API keys</h2>
          <ApiKeys slug={slug} keys={keys.apiKeys} />
        </section>
      )}
      <section aria-labelledby="webhooks-title">
        <h2 id="webhooks-title">Webhooks</h2>
        <Webhooks slug={slug} endpoints={hooks.webhookEndpoints} />
      </section>
    </>
  );
}
