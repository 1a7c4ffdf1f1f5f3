'use client';

import { useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { formatBytes, formatDuration } from '../lib/format.ts';
import {
  isImagePath,
  isNoise,
  labelsFor,
  parseLabelCsv,
  type LabelSource,
  type UploadLimits,
} from '../lib/upload-plan.ts';
import {
  Uploader,
  type FileStatus,
  type Split,
  type UploadEntry,
  type UploadSnapshot,
} from '../lib/uploader.ts';

interface Picked {
  file: File;
  path: string;
}

/** Every file under the dropped items, folders walked (readEntries answers in pages). */
async function droppedFiles(event: DragEvent): Promise<Picked[]> {
  const roots = Array.from(event.dataTransfer.items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((entry): entry is FileSystemEntry => !!entry);
  if (roots.length === 0) {
    return Array.from(event.dataTransfer.files, (file) => ({ file, path: file.name }));
  }
  const out: Picked[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) =>
        (entry as FileSystemFileEntry).file(resolve, reject),
      );
      out.push({ file, path: entry.fullPath.replace(/^\//, '') });
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const page = await new Promise<FileSystemEntry[]>((resolve, reject) =>
        reader.readEntries(resolve, reject),
      );
      if (page.length === 0) break;
      for (const child of page) await walk(child);
    }
  };
  for (const root of roots) await walk(root);
  return out;
}

const fromInput = (files: FileList | null): Picked[] =>
  Array.from(files ?? [], (file) => ({ file, path: file.webkitRelativePath || file.name }));

const STATUS_TEXT: Record<FileStatus, string> = {
  waiting: 'waiting',
  imported: 'imported',
  stored: 'imported or already there',
  'already-there': 'already in the project',
  duplicate: 'duplicate',
  failed: 'failed',
};
const PAGE = 100;
const FILTERS = [
  'failed',
  'imported',
  'stored',
  'already-there',
  'duplicate',
  'waiting',
  'all',
] as const;

/**
 * The files' total size, counted a hundred files per tick: the browser looks up each size of
 * a chosen folder's file synchronously (0.4 ms a file), so counting 10,000 at once would
 * freeze the page for seconds. Null until counted.
 */
function useTotalBytes(files: Picked[]): number | null {
  const [total, setTotal] = useState<number | null>(null);
  useEffect(() => {
    let stopped = false;
    setTotal(null);
    void (async () => {
      let sum = 0;
      for (let i = 0; i < files.length && !stopped; i += 100) {
        for (const p of files.slice(i, i + 100)) sum += p.file.size;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      if (!stopped) setTotal(sum);
    })();
    return () => {
      stopped = true;
    };
  }, [files]);
  return total;
}

/** Subscribes to an upload, re-rendering at most every 250 ms however fast files settle. */
function useSnapshot(uploader: Uploader | null): UploadSnapshot | null {
  const [snapshot, setSnapshot] = useState<UploadSnapshot | null>(null);
  useEffect(() => {
    if (!uploader) {
      setSnapshot(null);
      return;
    }
    let timer: ReturnType<typeof setTimeout> | null = null;
    setSnapshot(uploader.snapshot());
    const off = uploader.subscribe(() => {
      timer ??= setTimeout(() => {
        timer = null;
        setSnapshot(uploader.snapshot());
      }, 250);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [uploader]);
  return snapshot;
}

/**
 * Drop files or folders (or choose them), pick the split and where labels come from, and
 * send: progress with rate and ETA, pause, cancel, and every file's outcome.
 */
export function ImageUpload({
  slug,
  limits,
  classes,
  initialSplit,
  initialLabels,
}: {
  slug: string;
  limits: UploadLimits;
  classes: string[];
  initialSplit: Split;
  initialLabels: LabelSource;
}) {
  const [split, setSplit] = useState<Split>(initialSplit);
  const [labelSource, setLabelSource] = useState<LabelSource>(initialLabels);
  const [csv, setCsv] = useState<{ labels: Map<string, string>; problems: string[] } | null>(null);
  const [picked, setPicked] = useState<Picked[]>([]);
  const [uploader, setUploader] = useState<Uploader | null>(null);
  const [dragging, setDragging] = useState(false);
  const [filter, setFilter] = useState<FileStatus | 'all'>('failed');
  const [page, setPage] = useState(0);
  const snapshot = useSnapshot(uploader);
  const folderInput = useRef<HTMLInputElement>(null);

  // webkitdirectory is not in React's input attributes.
  useEffect(() => {
    folderInput.current?.setAttribute('webkitdirectory', '');
  }, []);

  const images = useMemo(() => picked.filter((p) => !isNoise(p.path)), [picked]);
  const labels = useMemo(
    () =>
      labelsFor(
        images.map((p) => p.path),
        labelSource,
        csv?.labels ?? null,
      ),
    [images, labelSource, csv],
  );
  const perClass = useMemo(() => {
    const counts = new Map<string, number>();
    for (const l of labels) if (l) counts.set(l, (counts.get(l) ?? 0) + 1);
    return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [labels]);
  const unknown = perClass.filter(([name]) => !classes.includes(name));
  const unlabeled = labels.filter((l) => !l).length;
  const totalBytes = useTotalBytes(images);
  const busy = !!snapshot && !['ready', 'done', 'cancelled', 'paused'].includes(snapshot.phase);

  const choose = (files: Picked[]) => {
    if (busy) return;
    setPicked(files);
    setUploader(null);
    setPage(0);
  };

  const start = () => {
    if (uploader && snapshot?.phase !== 'done') {
      uploader.start();
      return;
    }
    const entries: UploadEntry[] = images.map((p, i) =>
      isImagePath(p.path)
        ? { file: p.file, path: p.path, label: labels[i] ?? null, status: 'waiting' }
        : {
            file: p.file,
            path: p.path,
            label: null,
            status: 'failed',
            reason: 'not a PNG or JPEG file (by its name)',
          },
    );
    // Small requests keep the progress honest and a lost connection cheap.
    const next = new Uploader(slug, split, entries, {
      maxFiles: Math.min(limits.maxFiles, 50),
      maxFileBytes: limits.maxFileBytes,
      maxRequestBytes: Math.min(limits.maxRequestBytes, 16 * 1024 * 1024),
    });
    setUploader(next);
    next.start();
  };

  const rows = uploader
    ? uploader.entries.filter((e) => filter === 'all' || e.status === filter)
    : [];
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));

  return (
    <div className="upload">
      <fieldset disabled={busy} className="upload-options">
        <legend>What to add</legend>
        <label>
          Split{' '}
          <select value={split} onChange={(e) => setSplit(e.target.value as Split)}>
            <option value="POOL">pool (to label and learn from)</option>
            <option value="EVAL">eval (held out to measure quality)</option>
            <option value="GOLD">gold (known answers to check annotators)</option>
          </select>
        </label>
        <label>
          Labels{' '}
          <select
            value={labelSource}
            onChange={(e) => setLabelSource(e.target.value as LabelSource)}
          >
            <option value="none">none</option>
            <option value="folders">from sub-folder names</option>
            <option value="csv">from a CSV file (file,class)</option>
          </select>
        </label>
        {labelSource === 'csv' && (
          <label>
            CSV file{' '}
            <input
              type="file"
              accept=".csv,text/csv"
              onChange={async (e) => {
                const file = e.target.files?.[0];
                if (!file) return;
                if (file.size > 20 * 1024 * 1024) {
                  setCsv({ labels: new Map(), problems: ['the CSV is over 20 MiB'] });
                  return;
                }
                setCsv(parseLabelCsv(await file.text()));
              }}
            />
          </label>
        )}
      </fieldset>

      <div
        className={dragging ? 'dropzone dragging' : 'dropzone'}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={async (e) => {
          e.preventDefault();
          setDragging(false);
          choose(await droppedFiles(e));
        }}
      >
        <p>Drop image files or whole folders here, or</p>
        <label className="button">
          Choose files
          <input
            type="file"
            multiple
            accept="image/png,image/jpeg"
            className="visually-hidden"
            disabled={busy}
            onChange={(e) => choose(fromInput(e.target.files))}
          />
        </label>{' '}
        <label className="button">
          Choose a folder
          <input
            ref={folderInput}
            type="file"
            className="visually-hidden"
            data-testid="folder-input"
            disabled={busy}
            onChange={(e) => choose(fromInput(e.target.files))}
          />
        </label>
      </div>

      {images.length > 0 && (
        <div data-testid="upload-summary">
          <p>
            {images.length.toLocaleString('en')} files,{' '}
            {totalBytes === null ? 'counting their size…' : formatBytes(totalBytes)}
            {labelSource !== 'none' &&
              ` · ${(images.length - unlabeled).toLocaleString('en')} with a label, ${unlabeled.toLocaleString('en')} without`}
          </p>
          {perClass.length > 0 && (
            <p>{perClass.map(([name, n]) => `${name}: ${n.toLocaleString('en')}`).join(' · ')}</p>
          )}
          {unknown.length > 0 && (
            <p className="error" role="alert">
              This project has no class named {unknown.map(([n]) => `“${n}”`).join(', ')}; those
              files will fail. Add the class in Settings or rename the folder.
            </p>
          )}
          {csv?.problems.length ? (
            <p className="error">CSV: {csv.problems.slice(0, 5).join('; ')}</p>
          ) : null}
        </div>
      )}

      <div className="actions">
        <button
          type="button"
          disabled={images.length === 0 || busy || snapshot?.phase === 'done'}
          onClick={start}
        >
          {snapshot && ['paused', 'cancelled'].includes(snapshot.phase)
            ? 'Resume upload'
            : 'Upload'}
        </button>
        <button
          type="button"
          disabled={!snapshot || snapshot.phase !== 'uploading'}
          onClick={() => uploader?.pause()}
        >
          Pause
        </button>
        <button
          type="button"
          disabled={!busy && snapshot?.phase !== 'paused'}
          onClick={() => uploader?.cancel()}
        >
          Cancel
        </button>
      </div>

      {snapshot && <Progress snapshot={snapshot} />}

      {uploader && snapshot && (
        <section aria-labelledby="results-title">
          <h2 id="results-title">Files</h2>
          <div className="actions" role="group" aria-label="Show files">
            {FILTERS.map((status) => ({
              status,
              count:
                status === 'all'
                  ? uploader.entries.length
                  : uploader.entries.filter((e) => e.status === status).length,
            }))
              // Only outcomes that occurred (and the one shown).
              .filter(({ status, count }) => count > 0 || status === filter || status === 'all')
              .map(({ status, count }) => (
                <button
                  key={status}
                  type="button"
                  aria-pressed={filter === status}
                  onClick={() => {
                    setFilter(status);
                    setPage(0);
                  }}
                >
                  {status === 'all' ? 'all' : STATUS_TEXT[status]} ({count})
                </button>
              ))}
          </div>
          <table data-testid="upload-results">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Label</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(page * PAGE, (page + 1) * PAGE).map((e) => (
                <tr key={e.path} data-status={e.status}>
                  <td>{e.path}</td>
                  <td>{e.label ?? '—'}</td>
                  <td>
                    {STATUS_TEXT[e.status]}
                    {e.reason ? `: ${e.reason}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {pages > 1 && (
            <div className="actions">
              <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <span>
                page {page + 1} of {pages}
              </span>
              <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </div>
          )}
        </section>
      )}
    </div>
  );
}

function Progress({ snapshot: s }: { snapshot: UploadSnapshot }) {
  const phase: Record<UploadSnapshot['phase'], string> = {
    ready: 'ready',
    hashing: `reading files ${s.hashed.toLocaleString('en')} / ${s.files.toLocaleString('en')}`,
    checking: 'asking what the project already holds',
    uploading: 'uploading',
    pausing: 'pausing after this batch',
    paused: 'paused',
    cancelled: 'cancelled',
    done: 'done',
  };
  return (
    <div className="progress" aria-live="polite" data-testid="upload-progress">
      <p>
        <strong data-testid="upload-phase">{phase[s.phase]}</strong> ·{' '}
        <span data-testid="upload-files">
          {s.doneFiles.toLocaleString('en')} / {s.files.toLocaleString('en')} files
        </span>{' '}
        · {formatBytes(s.sentBytes)} / {formatBytes(s.toSendBytes)} sent
        {s.bytesPerSecond != null && ` · ${formatBytes(s.bytesPerSecond)}/s`}
        {s.etaSeconds != null && ` · about ${formatDuration(s.etaSeconds)} left`}
      </p>
      <progress
        value={s.phase === 'hashing' ? s.hashed : s.doneFiles}
        max={Math.max(1, s.files)}
        aria-label="upload progress"
      />
      <p data-testid="upload-counts">
        {s.imported.toLocaleString('en')} imported · {s.duplicates.toLocaleString('en')} duplicates
        · {s.alreadyThere.toLocaleString('en')} already in the project ·{' '}
        {s.failed.toLocaleString('en')} failed
      </p>
      {s.message && <p role="status">{s.message}</p>}
      {s.phase === 'done' && (
        <p role="status" data-testid="upload-done">
          Upload finished.{' '}
          {s.ingestWorkflowId
            ? 'The new images are being embedded; the project page shows how far.'
            : 'Once the project has an encoder, every image is embedded with it.'}
        </p>
      )}
    </div>
  );
}
