import cliProgress from 'cli-progress';
import type { ImportProgress } from '@beanstalk/ingest';

/** A terminal progress bar with rate and ETA for importer runs. */
export function importProgressBar() {
  const bar = new cliProgress.SingleBar(
    {
      format:
        '{phase} [{bar}] {percentage}% | {value}/{total} | {rate} img/s | ETA {eta_formatted} | dup {duplicates} | failed {failed}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  return {
    update(p: ImportProgress) {
      const rate = Math.round(p.done / Math.max(0.001, (Date.now() - started) / 1000));
      const payload = { phase: p.phase, rate, duplicates: p.duplicates, failed: p.failed };
      if (!running) {
        bar.start(p.total, p.done, payload);
        running = true;
      }
      bar.setTotal(p.total);
      bar.update(p.done, payload);
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
