import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@beanstalk/config';
import { createTestDatabase, seedProject, type TestDatabase } from '@beanstalk/testing';
import { platformCheck } from '@beanstalk/workflows';
import { createOrchestrationWorker } from '../src/workers.ts';

describe('a workflow on the real Temporal dev server', () => {
  const config = loadConfig();
  let db: TestDatabase;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  beforeAll(async () => {
    db = await createTestDatabase();
    nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    connection = await Connection.connect({ address: config.temporal.address });
  });
  afterAll(async () => {
    await connection?.close();
    await nativeConnection?.close();
    await db.drop();
  });

  it('runs end to end: scheduled by Temporal, activity reads Postgres, result returned', async () => {
    await seedProject(db.db, { items: 1 });
    await seedProject(db.db, { items: 1 });
    const taskQueue = `test-${randomUUID()}`;
    const worker = await createOrchestrationWorker({
      config,
      db: db.db,
      connection: nativeConnection,
      taskQueue,
    });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workflowId = `platform-check-${randomUUID()}`;
    const result = await worker.runUntil(
      client.workflow.execute(platformCheck, { taskQueue, workflowId, args: ['vitest'] }),
    );
    expect(result).toEqual({
      projects: 2,
      services: `postgres+pgvector 0.8.0, temporal ${config.temporal.address}`,
      checkedBy: 'vitest',
    });
    // The server, not just the SDK, recorded the run.
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.taskQueue).toBe(taskQueue);
  });
});
