import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

function gpu(): string | null {
  try {
    return (
      execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
        encoding: 'utf8',
      }).trim() || null
    );
  } catch {
    return null;
  }
}

/** The machine a benchmark ran on, recorded with its results. */
export function machine() {
  return {
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    gpu: gpu(),
    node: process.version,
  };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
    : NaN;
}

/** Mean and sample standard deviation (0 for fewer than two values). */
export function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd =
    values.length > 1
      ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1))
      : 0;
  return { mean, sd };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Writes bench/results/<name>.json with summary, machine, command and date first. */
export function writeResults(
  name: string,
  summary: Record<string, unknown>,
  details: Record<string, unknown>,
): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  // The command as typed, so a result written by a variant run (--out) says how it was made.
  const command = commandLine(name);
  writeFileSync(
    file,
    `${JSON.stringify({ summary, machine: machine(), command, date: new Date().toISOString(), ...details }, null, 2)}\n`,
  );
  return file;
}

/** What bench/results/<name>.json holds now, or null. */
export function previousResults(name: string): Record<string, unknown> | null {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
    : null;
}

/**
 * For benchmarks that keep one run per size in `<name>.json` (`runs`): the runs already
 * there with `run` put under `key`, so measuring one size does not erase the others.
 */
export function withRun<Run>(name: string, key: string, run: Run): Record<string, Run> {
  const previous = previousResults(name)?.runs as Record<string, Run> | undefined;
  return { ...previous, [key]: run };
}

/** The command that started this benchmark, as typed. */
export function commandLine(name: string): string {
  const extra = process.argv.slice(2);
  return `npm run bench:${process.env.npm_lifecycle_event ?? name}${extra.length ? ` -- ${extra.join(' ')}` : ''}`;
}

export function printTable(rows: Record<string, string | number>[]): void {
  const keys = Object.keys(rows[0] ?? {});
  const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join('  ');
  console.log(line(keys));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(keys.map((k) => String(r[k]))));
}
