'use client';

import { useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { DeliveryStatus, WebhookEvent } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { useAction } from '../lib/use-action.tsx';

const CreateEndpoint = graphql(`
  mutation CreateWebhookEndpoint($slug: String!, $input: WebhookEndpointInput!) {
    createWebhookEndpoint(project: $slug, input: $input) {
      secret
    }
  }
`);
const UpdateEndpoint = graphql(`
  mutation UpdateWebhookEndpoint($id: ID!, $input: WebhookEndpointInput!) {
    updateWebhookEndpoint(id: $id, input: $input) {
      id
    }
  }
`);
const DeleteEndpoint = graphql(`
  mutation DeleteWebhookEndpoint($id: ID!) {
    deleteWebhookEndpoint(id: $id)
  }
`);
const PingEndpoint = graphql(`
  mutation PingWebhookEndpoint($id: ID!) {
    pingWebhookEndpoint(id: $id) {
      id
    }
  }
`);
const Redeliver = graphql(`
  mutation RedeliverWebhook($id: ID!) {
    redeliverWebhook(id: $id) {
      id
    }
  }
`);

/** The events a manager can choose, in the order they happen, with what they mean. */
const EVENTS: { event: WebhookEvent; label: string }[] = [
  { event: 'ROUND_OPENED', label: 'round opened' },
  { event: 'ROUND_COMPLETED', label: 'round completed' },
  { event: 'HEAD_PROMOTED', label: 'model promoted' },
  { event: 'HEAD_ROLLED_BACK', label: 'model rolled back' },
  { event: 'LABELS_FLAGGED', label: 'labels flagged as likely wrong' },
  { event: 'CAMPAIGN_FINISHED', label: 'campaign finished' },
  { event: 'BUDGET_LOW', label: 'budget below a level' },
  { event: 'IMPORT_FINISHED', label: 'import finished' },
];

export interface Delivery {
  id: string;
  event: WebhookEvent;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode?: number | null;
  lastError?: string | null;
  createdAt: string;
  deliveredAt?: string | null;
  redeliveryOf?: string | null;
}

export interface Endpoint {
  id: string;
  url: string;
  description: string;
  events: WebhookEvent[];
  budgetBelow?: number | null;
  active: boolean;
  deliveries: Delivery[];
}

const when = (iso: string) => new Date(iso).toLocaleString('en');

/** Registered endpoints with their delivery logs, and a form to add one. */
export function Webhooks({ slug, endpoints }: { slug: string; endpoints: Endpoint[] }) {
  const { run, note } = useAction();
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <>
      <p className="muted">
        Each event is POSTed as JSON, signed in <code>Beanstalk-Signature</code> (HMAC-SHA256 of{' '}
        <code>&lt;t&gt;.&lt;body&gt;</code> with the endpoint&apos;s secret), with the event id as{' '}
        <code>Idempotency-Key</code>; retried with backoff for a day until it answers 2xx.
      </p>
      {secret && (
        <p role="status" className="status">
          Signing secret (shown once): <code data-testid="new-webhook-secret">{secret}</code>
        </p>
      )}
      {endpoints.map((e) => (
        <article key={e.id} className="webhook" aria-label={`Webhook ${e.url}`}>
          <h3>
            <code>{e.url}</code> {e.active ? '' : '(paused)'}
          </h3>
          {e.description && <p>{e.description}</p>}
          <p className="muted">
            {e.events.map((v) => EVENTS.find((x) => x.event === v)?.label ?? v).join(', ')}
            {e.budgetBelow != null && ` (budget below ${e.budgetBelow})`}
          </p>
          <div className="inline-form">
            <button
              type="button"
              onClick={() => void run(() => call(PingEndpoint, { id: e.id }), 'Ping sent.')}
            >
              Send a ping
            </button>
            <button
              type="button"
              onClick={() =>
                void run(() =>
                  call(UpdateEndpoint, {
                    id: e.id,
                    input: {
                      url: e.url,
                      description: e.description,
                      events: e.events,
                      budgetBelow: e.budgetBelow,
                      active: !e.active,
                    },
                  }),
                )
              }
            >
              {e.active ? 'Pause' : 'Resume'}
            </button>
            <button
              type="button"
              onClick={() => {
                if (window.confirm(`Delete the webhook to ${e.url} and its delivery log?`)) {
                  void run(() => call(DeleteEndpoint, { id: e.id }));
                }
              }}
            >
              Delete
            </button>
          </div>
          <table data-testid="webhook-deliveries">
            <caption>Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Answer</th>
                <th scope="col">Written</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {e.deliveries.length === 0 && (
                <tr>
                  <td colSpan={6}>none yet</td>
                </tr>
              )}
              {e.deliveries.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    {d.event.toLowerCase()}
                    {d.redeliveryOf ? ' (again)' : ''}
                  </th>
                  <td>{d.status.toLowerCase()}</td>
                  <td>{d.attempts}</td>
                  <td>
                    {d.lastStatusCode != null ? `HTTP ${d.lastStatusCode}` : ''}
                    {d.lastError ? ` ${d.lastError}` : ''}
                  </td>
                  <td>{when(d.createdAt)}</td>
                  <td>
                    {d.status !== 'PENDING' && (
                      <button
                        type="button"
                        onClick={() => void run(() => call(Redeliver, { id: d.id }), 'Sent again.')}
                      >
                        Redeliver
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </article>
      ))}
      <form
        className="inline-form"
        aria-label="Add a webhook"
        onSubmit={(event) => {
          event.preventDefault();
          const f = new FormData(event.currentTarget);
          const level = String(f.get('budgetBelow') ?? '');
          void run(
            async () => {
              const r = await call(CreateEndpoint, {
                slug,
                input: {
                  url: String(f.get('url')).trim(),
                  description: String(f.get('description') ?? ''),
                  events: f.getAll('events').map(String) as WebhookEvent[],
                  budgetBelow: level ? Number(level) : undefined,
                },
              });
              setSecret(r.createWebhookEndpoint.secret);
            },
            'Webhook added. Copy its secret now: it is not shown again. Reload to see it listed.',
            false,
          );
        }}
      >
        <label>
          URL
          <input name="url" type="url" required placeholder="https://mes.example.com/beanstalk" />
        </label>
        <label>
          Description
          <input name="description" placeholder="line 3 MES" />
        </label>
        <fieldset className="events">
          <legend>Events</legend>
          {EVENTS.map(({ event, label }) => (
            <label key={event} className="checkbox">
              <input type="checkbox" name="events" value={event} /> {label}
            </label>
          ))}
        </fieldset>
        <label>
          Budget level (labels left, for &ldquo;budget below a level&rdquo;)
          <input name="budgetBelow" type="number" min={1} step={1} />
        </label>
        <button type="submit">Add webhook</button>
      </form>
      {note}
    </>
  );
}
