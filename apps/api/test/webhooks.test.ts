// Webhook endpoints through the API: what a manager may register, the secret shown once, and
// events the API itself emits (ping, rollback) written to the delivery log and handed to a
// delivery workflow. Sending is tested with a real receiver in apps/worker/test/webhooks.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startApi, type Api } from './harness.ts';

describe('webhook endpoints', () => {
  let api: Api;
  let manager: { cookie: string };
  let projectId: string;
  const slug = 'fm-hooks';

  beforeAll(async () => {
    api = await startApi();
    ({ projectId } = await api.seedProject({ limit: 60, labeled: 30, slug }));
    manager = await api.user('hooks-manager@example.com', { projectId, role: 'MANAGER' });
  });
  afterAll(() => api?.stop());

  const create = (input: Record<string, unknown>) =>
    api.gql(
      manager,
      `mutation ($slug: String!, $input: WebhookEndpointInput!) {
        createWebhookEndpoint(project: $slug, input: $input) { secret endpoint { id url events budgetBelow active } } }`,
      { slug, input },
    );

  it('refuses URLs and inputs it must not accept, with the field named', async () => {
    const refused = async (input: Record<string, unknown>, pattern: RegExp) => {
      const r = await create({ events: ['ROUND_COMPLETED'], ...input });
      expect(codes(r), JSON.stringify(input)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0]!.message).toMatch(pattern);
    };
    await refused({ url: 'http://127.0.0.1:9000/hook' }, /url: 127\.0\.0\.1 is a private address/);
    await refused({ url: 'http://169.254.169.254/latest' }, /private address/);
    await refused({ url: 'http://localhost/hook' }, /private address/);
    await refused({ url: 'file:///etc/passwd' }, /only http and https/);
    await refused({ url: 'https://u:p@hooks.example.com/' }, /no credentials/);
    await refused({ url: `https://hooks.example.com/${'a'.repeat(2001)}` }, /over 2000/);
    await refused({ url: 'https://hooks.example.com/', events: [] }, /at least one event/);
    await refused(
      { url: 'https://hooks.example.com/', events: ['BUDGET_LOW'] },
      /BUDGET_LOW needs budgetBelow/,
    );
    expect(await api.db.prisma.webhookEndpoint.count({ where: { projectId } })).toBe(0);
  });

  it('registers an endpoint, shows its secret once, and lists its delivery log', async () => {
    const r = await create({
      url: 'https://hooks.example.com/line-3',
      events: ['ROUND_COMPLETED', 'BUDGET_LOW', 'HEAD_ROLLED_BACK', 'ROUND_COMPLETED'],
      budgetBelow: 50,
    });
    expect(r.errors).toBeUndefined();
    const { secret, endpoint } = r.data!.createWebhookEndpoint;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(endpoint).toMatchObject({
      events: ['ROUND_COMPLETED', 'BUDGET_LOW', 'HEAD_ROLLED_BACK'],
      budgetBelow: 50,
      active: true,
    });
    // The listing never shows the secret: the type has no such field.
    const listed = await api.gql(
      manager,
      `query { webhookEndpoints(project: "${slug}") { id secret } }`,
    );
    expect(codes(listed)).toEqual(['GRAPHQL_VALIDATION_FAILED']);

    // A ping is written to the log at once and handed to its delivery workflow.
    const ping = await api.ok(
      manager,
      `mutation ($id: ID!) { pingWebhookEndpoint(id: $id) { id event status attempts payload } }`,
      { id: endpoint.id },
    );
    expect(ping.pingWebhookEndpoint).toMatchObject({
      event: 'PING',
      status: 'PENDING',
      attempts: 0,
    });
    const workflow = await (
      await api.services.temporal()
    ).workflow
      .getHandle(`webhook-delivery-${ping.pingWebhookEndpoint.id}`)
      .describe();
    expect(workflow.type).toBe('deliverWebhook');
    await (
      await api.services.temporal()
    ).workflow
      .getHandle(`webhook-delivery-${ping.pingWebhookEndpoint.id}`)
      .terminate('test: no worker on this queue');

    // A rollback is an event the endpoint asked for: it is in the log too, newest first.
    const head = await api.db.db.heads.get(
      (await api.db.prisma.project.findUniqueOrThrow({ where: { id: projectId } }))
        .activeHeadVersionId!,
    );
    const second = { id: await api.copyHead(head.id) };
    await api.db.db.heads.promote(second.id, { note: 'test' });
    await api.ok(manager, `mutation { rollbackHeadVersion(project: "${slug}") { id } }`);
    const log = await api.ok(
      manager,
      `query { webhookEndpoints(project: "${slug}") { deliveries(first: 10) { event status payload redeliveryOf } } }`,
    );
    const deliveries = log.webhookEndpoints[0].deliveries;
    expect(deliveries.map((d: any) => d.event)).toEqual(['HEAD_ROLLED_BACK', 'PING']);
    expect(JSON.parse(deliveries[0].payload)).toMatchObject({
      head: { id: head.id },
      from: { id: second.id },
    });

    // A redelivery is a new row that keeps the event id.
    const original = await api.db.prisma.webhookDelivery.findFirstOrThrow({
      where: { event: 'HEAD_ROLLED_BACK' },
    });
    const again = await api.ok(
      manager,
      `mutation ($id: ID!) { redeliverWebhook(id: $id) { id eventId redeliveryOf status } }`,
      { id: original.id },
    );
    expect(again.redeliverWebhook).toMatchObject({
      eventId: original.eventId,
      redeliveryOf: original.id,
      status: 'PENDING',
    });
    expect(again.redeliverWebhook.id).not.toBe(original.id);
    for (const id of [again.redeliverWebhook.id, original.id]) {
      await (
        await api.services.temporal()
      ).workflow
        .getHandle(`webhook-delivery-${id}`)
        .terminate('test: no worker on this queue')
        .catch(() => undefined);
    }

    // Deleting the endpoint takes its log with it.
    expect(
      await api.ok(manager, `mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) }`, {
        id: endpoint.id,
      }),
    ).toEqual({ deleteWebhookEndpoint: true });
    expect(await api.db.prisma.webhookDelivery.count({ where: { endpointId: endpoint.id } })).toBe(
      0,
    );
  });
});
