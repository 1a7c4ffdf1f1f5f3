// Real processes for tests and benchmarks: a free port to give one, and a child started the
// way it is deployed, awaited until it says it is ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A TCP port nothing listens on right now (on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `command args` in `cwd` (Node with tsx by default) and resolves once its output
 * matches `ready`; rejects with its output if it exits first. `onOutput` sees every chunk,
 * before and after (a log file).
 */
export async function startProcess(options: {
  name: string;
  cwd: string;
  args: string[];
  env?: Record<string, string>;
  ready: string | RegExp;
  command?: string;
  onOutput?: (chunk: Buffer) => void;
}): Promise<ChildProcess> {
  const command = options.command ?? process.execPath;
  const args = options.command ? options.args : ['--import', 'tsx', ...options.args];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const isReady = (text: string) =>
    typeof options.ready === 'string' ? text.includes(options.ready) : options.ready.test(text);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      options.onOutput?.(chunk);
      output = (output + chunk.toString()).slice(-20_000);
      if (isReady(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${options.name} exited with ${code}:\n${output}`)),
    );
  });
  return child;
}
