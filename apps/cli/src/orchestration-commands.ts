import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '@beanstalk/config';
import type { Database } from '@beanstalk/db';
import { registerEncoder } from '@beanstalk/model-runtime';
import { cancelCampaign, startCampaign, startIngest, startRound } from '@beanstalk/orchestration';
import { AppError, TASK_QUEUES } from '@beanstalk/shared';
import type { BlobStore } from '@beanstalk/storage';
import { ingestProgress } from '@beanstalk/workflows';
import type { Command } from 'commander';

interface Deps {
  db: Database;
  blobs: BlobStore;
}

async function withTemporal<T>(config: Config, fn: (client: Client) => Promise<T>) {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

async function projectBySlug(db: Database, slug: string) {
  const project = await db.projects.bySlug(slug);
  if (!project) throw new AppError('NOT_FOUND', `no project "${slug}"`);
  return project;
}

/** Commands that talk to the workflows: encoders, ingest, budget, rounds and campaigns. */
export function addOrchestrationCommands(
  program: Command,
  config: Config,
  withDb: <T>(config: Config, fn: (deps: Deps) => Promise<T>) => Promise<T>,
  userPath: (p: string) => string,
) {
  program
    .command('encoder')
    .description('encoder versions')
    .command('register <model-dir>')
    .description('register a trainer output folder (encoder.onnx + encoder.json)')
    .requiredOption('--project <slug>', 'use it for this project if it has no encoder yet')
    .option('--name <name>', 'version name (default: the folder name)')
    .action(async (dir: string, opts: { project: string; name?: string }) => {
      const id = await withDb(config, async (d) => {
        const project = await projectBySlug(d.db, opts.project);
        return registerEncoder(d, {
          modelDir: userPath(dir),
          name: opts.name ?? userPath(dir).split('/').filter(Boolean).at(-1)!,
          projectId: project.id,
        });
      });
      console.log(`encoder version ${id}`);
    });

  program
    .command('ingest')
    .description('embed items without backbone features (needs a running gpu worker)')
    .requiredOption('--project <slug>', 'project slug')
    .action(async (opts: { project: string }) => {
      const project = await withDb(config, (d) => projectBySlug(d.db, opts.project));
      await withTemporal(config, async (client) => {
        const handle = await startIngest(client, project.id);
        const bar = new cliProgress.SingleBar(
          {
            format:
              'embedding [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | failed {failed}',
            hideCursor: true,
            noTTYOutput: true,
            notTTYSchedule: 5000,
          },
          cliProgress.Presets.shades_classic,
        );
        let started = false;
        let waited = 0;
        const result = handle.result();
        let finished = false;
        void result.finally(() => (finished = true));
        while (!finished) {
          const p = await handle.query(ingestProgress).catch(() => null);
          if (p?.total) {
            if (!started) bar.start(p.total, 0, { failed: 0 });
            started = true;
            bar.update(p.embedded + p.failedCount, { failed: p.failedCount });
          } else if (p === null && (waited += 500) === 10_000) {
            console.log(`waiting for a worker on "${TASK_QUEUES.gpu}" (npm run worker)`);
          }
          await sleep(500);
        }
        const done = await result;
        if (started) {
          bar.update(done.embedded + done.failedCount, { failed: done.failedCount });
          bar.stop();
        }
        console.log(`embedded ${done.embedded}, failed ${done.failedCount}`);
        for (const f of done.failures) console.log(`  ! ${f.itemId}: ${f.reason}`);
      });
    });

  program
    .command('budget')
    .description('the label budget')
    .command('add')
    .description('add human labels to a project budget (negative to take away)')
    .requiredOption('--project <slug>', 'project slug')
    .requiredOption('--amount <n>', 'labels', (v) => Number.parseInt(v, 10))
    .option('--reason <text>', 'why', 'added from the command line')
    .option('--if-empty', 'only when the project has no budget yet (for setup scripts)', false)
    .action(async (opts: { project: string; amount: number; reason: string; ifEmpty: boolean }) => {
      if (!Number.isInteger(opts.amount))
        throw new AppError('BAD_USER_INPUT', '--amount must be a whole number');
      const added = await withDb(config, async (d) => {
        const project = await projectBySlug(d.db, opts.project);
        if (opts.ifEmpty && (await d.db.budget.hasEntries(project.id))) return false;
        await d.db.budget.add({ projectId: project.id, amount: opts.amount, reason: opts.reason });
        return true;
      });
      console.log(
        added ? `budget ${opts.amount >= 0 ? '+' : ''}${opts.amount}` : 'budget already set',
      );
    });

  program
    .command('round')
    .description('active-learning rounds')
    .command('start')
    .description('start one round (labels come from the web app or the API)')
    .requiredOption('--project <slug>', 'project slug')
    .action(async (opts: { project: string }) => {
      const project = await withDb(config, (d) => projectBySlug(d.db, opts.project));
      const handle = await withTemporal(config, (client) =>
        startRound(
          client,
          { projectId: project.id },
          new Date().toISOString().replace(/[:.]/g, '-'),
        ),
      );
      console.log(`round workflow ${handle.workflowId}`);
    });

  const campaigns = program.command('campaign').description('rounds until budget or target');
  campaigns
    .command('start')
    .requiredOption('--project <slug>', 'project slug')
    .option('--max-rounds <n>', 'stop after N rounds', (v) => Number.parseInt(v, 10))
    .action(async (opts: { project: string; maxRounds?: number }) => {
      const handle = await withDb(config, async (d) => {
        const project = await projectBySlug(d.db, opts.project);
        return withTemporal(config, (client) =>
          startCampaign({ db: d.db, client }, { projectId: project.id, maxRounds: opts.maxRounds }),
        );
      });
      console.log(`campaign workflow ${handle.workflowId}`);
    });
  campaigns
    .command('cancel')
    .requiredOption('--project <slug>', 'project slug')
    .action(async (opts: { project: string }) => {
      await withDb(config, async (d) => {
        const project = await projectBySlug(d.db, opts.project);
        await withTemporal(config, (client) => cancelCampaign({ db: d.db, client }, project.id));
      });
      console.log('cancel requested; open tasks expire and the budget is released');
    });
}
