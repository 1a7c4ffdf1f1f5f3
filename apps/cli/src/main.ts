#!/usr/bin/env -S npx tsx
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, parseConfig, redactUrl, type Config } from '@beanstalk/config';
import { createDatabase, migrate } from '@beanstalk/db';
import {
  exportImages,
  importFashionMnist,
  importFolder,
  FASHION_MNIST_DIR,
  type ImportSummary,
} from '@beanstalk/ingest';
import { LocalBlobStore } from '@beanstalk/storage';
import { backup, restore } from './backup.ts';
import { addOrchestrationCommands } from './orchestration-commands.ts';
import { importProgressBar } from './progress.ts';
import { addUserCommands } from './user-commands.ts';
import { servicesDown, servicesStatus, servicesUp } from '@beanstalk/local-services';

const log = (line: string) => console.log(`  ${line}`);

/** npm runs workspace scripts in the package folder; paths are meant from where npm was run. */
const userPath = (p: string) => path.resolve(process.env.INIT_CWD ?? process.cwd(), p);

function printUrls(config: Config) {
  console.log(`DATABASE_URL=${redactUrl(config.postgres.databaseUrl)}`);
  console.log(`TEMPORAL_ADDRESS=${config.temporal.address}`);
  console.log(`data folder: ${config.dataDir}`);
}

type Deps = ReturnType<typeof createDeps>;

async function withDb<T>(config: Config, fn: (deps: Deps) => Promise<T>) {
  const d = createDeps(config);
  try {
    return await fn(d);
  } finally {
    await d.db.close();
  }
}

function createDeps(config: Config) {
  return {
    db: createDatabase(config.postgres.databaseUrl),
    blobs: new LocalBlobStore(config.blobDir),
  };
}

function report(summary: ImportSummary) {
  console.log(
    `imported ${summary.imported}, already present ${summary.duplicates}, failed ${summary.failed} ` +
      `(of ${summary.total}; import run ${summary.importRunId})`,
  );
  for (const e of summary.errors.slice(0, 50)) console.log(`  ! ${e.file}: ${e.reason}`);
  if (summary.errors.length > 50) console.log(`  ... and ${summary.errors.length - 50} more`);
  if (summary.labelConflicts.length > 0) {
    console.log(
      `labels not applied (item already labeled otherwise): ${summary.labelConflicts.length}`,
    );
    for (const c of summary.labelConflicts.slice(0, 20)) console.log(`  ~ ${c.file}: ${c.reason}`);
  }
}

async function main() {
  const config = loadConfig();
  const program = new Command('beanstalk').description('Beanstalk platform command line');

  const services = program.command('services').description('local Postgres+pgvector and Temporal');
  services
    .command('up')
    .description('start both (idempotent)')
    .action(async () => {
      await servicesUp(config, log);
      // Read again: a first `up` has just generated the database password.
      const ready = parseConfig(process.env);
      const status = await servicesStatus(ready);
      console.log(`postgres: ${status.postgres}\ntemporal: ${status.temporal}`);
      printUrls(ready);
    });
  services
    .command('down')
    .description('stop both')
    .action(() => servicesDown(config, log));
  services
    .command('status')
    .description('report health')
    .action(async () => {
      const status = await servicesStatus(config);
      console.log(`postgres: ${status.postgres}\ntemporal: ${status.temporal}`);
      printUrls(config);
      if (!status.postgres.startsWith('running (') || !status.temporal.startsWith('running')) {
        process.exitCode = 1;
      }
    });

  program
    .command('db')
    .description('database')
    .command('migrate')
    .description('apply pending migrations from prisma/migrations')
    .action(async () => {
      const result = await migrate(config.postgres.databaseUrl, { log });
      console.log(
        `migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`,
      );
      if (result.unknown.length)
        console.log(`  not in this checkout: ${result.unknown.join(', ')}`);
    });

  const imports = program.command('import').description('bring images into a project');
  imports
    .command('fashion-mnist')
    .description('Fashion-MNIST: train -> pool (truth hidden), test -> eval')
    .option('--dir <dir>', 'folder with the IDX files', FASHION_MNIST_DIR)
    .option('--project <slug>', 'project slug', 'fashion-mnist')
    .option('--limit <n>', 'first N images of each part', (v) => Number.parseInt(v, 10))
    .action(async (opts: { dir: string; project: string; limit?: number }) => {
      const bar = importProgressBar();
      const summary = await withDb(config, (d) =>
        importFashionMnist(d, {
          dir: opts.dir,
          slug: opts.project,
          limit: opts.limit,
          onProgress: bar.update,
        }),
      ).finally(bar.stop);
      report(summary);
    });
  imports
    .command('folder <folder>')
    .description('a folder of PNG/JPEG/WebP images')
    .requiredOption('--project <slug>', 'project slug (created if missing)')
    .addOption(
      new Option('--labels <from>', 'where labels come from')
        .choices(['none', 'folders', 'csv'])
        .default('none'),
    )
    .option('--csv <file>', 'CSV with columns file,label (with --labels csv)')
    .addOption(
      new Option('--split <split>', 'split for the images')
        .choices(['POOL', 'EVAL', 'GOLD'])
        .default('POOL'),
    )
    .action(
      async (
        folder: string,
        opts: {
          project: string;
          labels: 'none' | 'folders' | 'csv';
          csv?: string;
          split: 'POOL' | 'EVAL' | 'GOLD';
        },
      ) => {
        const bar = importProgressBar();
        const summary = await withDb(config, (d) =>
          importFolder(d, {
            folder,
            slug: opts.project,
            labelsFrom: opts.labels,
            split: opts.split,
            ...(opts.csv ? { csvFile: userPath(opts.csv) } : {}),
            onProgress: bar.update,
          }),
        ).finally(bar.stop);
        report(summary);
      },
    );

  program
    .command('export')
    .description('write data out')
    .command('images')
    .description('images of a project as .npz for the trainer (apps/trainer)')
    .requiredOption('--project <slug>', 'project slug')
    .requiredOption('--out <file>', 'output .npz file')
    .option('--split <splits>', 'comma-separated splits', 'POOL')
    .addOption(
      new Option('--labels <which>', 'labels to include')
        .choices(['none', 'truth', 'current'])
        .default('none'),
    )
    .addOption(new Option('--channels <n>', 'gray (1) or RGB (3)').choices(['1', '3']).default('1'))
    .action(
      async (opts: {
        project: string;
        out: string;
        split: string;
        labels: 'none' | 'truth' | 'current';
        channels: '1' | '3';
      }) => {
        const bar = importProgressBar();
        const summary = await withDb(config, (d) =>
          exportImages(d, {
            slug: opts.project,
            out: userPath(opts.out),
            splits: opts.split.split(',').map((s) => s.trim().toUpperCase()) as (
              'POOL' | 'EVAL' | 'GOLD'
            )[],
            labels: opts.labels,
            channels: Number(opts.channels) as 1 | 3,
            onProgress: bar.update,
          }),
        ).finally(bar.stop);
        console.log(
          `wrote ${summary.out}: ${summary.shape.join('x')} images, ${summary.labeled} labeled`,
        );
      },
    );

  program
    .command('backup')
    .description('a consistent copy of the database (pg_dump) and the blob store')
    .requiredOption('--out <dir>', 'a new or empty folder')
    .action(async (opts: { out: string }) => {
      await backup(config, userPath(opts.out), log);
    });
  program
    .command('restore')
    .description('a backup into an empty database and blob store (a fresh data folder)')
    .requiredOption('--from <dir>', 'a folder written by backup')
    .action(async (opts: { from: string }) => {
      await restore(config, userPath(opts.from), log);
    });

  addOrchestrationCommands(program, config, withDb, userPath);
  addUserCommands(program, config, withDb);

  await program.parseAsync(process.argv);
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError ? error.message : `error: ${(error as Error).message}`,
  );
  process.exitCode = 1;
});
