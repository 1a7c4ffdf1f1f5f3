import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '@beanstalk/config';
import { repoRoot } from '@beanstalk/config';
import { TASK_QUEUES } from '@beanstalk/shared';

/**
 * The Python training worker (apps/trainer, `python -m beanstalk_trainer worker`), given the
 * platform's configuration as arguments so that the environment schema stays the one place
 * settings are read.
 */
export function trainerWorkerCommand(config: Config, taskQueue: string = TASK_QUEUES.train) {
  return {
    command: config.trainer.python,
    args: [
      '-m',
      'beanstalk_trainer',
      'worker',
      ['--temporal', config.temporal.address],
      ['--namespace', config.temporal.namespace],
      ['--task-queue', taskQueue],
      ['--blob-dir', config.blobDir],
      ['--work-dir', config.trainer.workDir],
      ['--threads', String(config.trainer.threads)],
      '--exit-with-parent',
    ].flat(),
    cwd: path.join(repoRoot, 'apps', 'trainer'),
  };
}

/**
 * Starts the training worker as a child process whose output goes to this one's; it stops by
 * itself if this process dies without passing a signal on (`--exit-with-parent`).
 */
export function spawnTrainerWorker(config: Config, taskQueue?: string): ChildProcess {
  const { command, args, cwd } = trainerWorkerCommand(config, taskQueue);
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('error', (error) => console.error(`training worker: ${error.message} (${command})`));
  child.on('exit', (code, signal) => {
    if (code !== 0) console.error(`training worker exited (${signal ?? `status ${code}`})`);
  });
  return child;
}
