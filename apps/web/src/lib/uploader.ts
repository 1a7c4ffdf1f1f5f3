// One upload of many images from the browser, run outside React so 10,000 files cost the
// page one re-render per tick, not one per file. Steps: hash every file (the API's content
// hash), skip what the project already holds (so a closed tab or a lost connection resumes
// where it stopped), then send the rest in batches within the API's limits, one request at a
// time, pausable between batches and cancellable at once.
import { graphql } from '../generated/gql.ts';
import { call } from './client.ts';
import { GraphQLRequestError } from './errors.ts';
import { formatBytes } from './format.ts';
import { planBatches, rateAndEta, sha256Hex, type UploadLimits } from './upload-plan.ts';

const KnownHashes = graphql(`
  query KnownContentHashes($slug: String!, $hashes: [String!]!) {
    knownContentHashes(project: $slug, hashes: $hashes)
  }
`);

/** Sent as multipart by hand: XMLHttpRequest reports upload progress, fetch does not. */
const ImportItems = graphql(`
  mutation ImportItems($slug: String!, $files: [Upload!]!, $split: Split, $labels: [String]) {
    importItems(project: $slug, files: $files, split: $split, labels: $labels) {
      imported
      duplicates
      failed
      errors {
        index
        file
        reason
      }
      ingestWorkflowId
    }
  }
`);

export type Split = 'POOL' | 'EVAL' | 'GOLD';

export type FileStatus =
  | 'waiting'
  | 'imported'
  /** Stored by this upload or found already there by the server (it counts, not names, those). */
  | 'stored'
  | 'already-there'
  | 'duplicate'
  | 'failed';

export interface UploadEntry {
  file: File;
  path: string;
  label: string | null;
  hash?: string;
  /**
   * Bytes, known once the file was read. Not `file.size`: for files from a chosen folder the
   * browser looks each size up synchronously, 0.4 ms a file, seconds for a large folder.
   */
  size?: number;
  status: FileStatus;
  reason?: string;
}

export type Phase =
  'ready' | 'hashing' | 'checking' | 'uploading' | 'pausing' | 'paused' | 'cancelled' | 'done';

export interface UploadSnapshot {
  phase: Phase;
  files: number;
  bytes: number;
  hashed: number;
  /** Files settled (imported, stored, skipped or failed). */
  doneFiles: number;
  sentBytes: number;
  toSendBytes: number;
  imported: number;
  duplicates: number;
  alreadyThere: number;
  failed: number;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  message: string | null;
  ingestWorkflowId: string | null;
}

interface ImportResult {
  imported: number;
  duplicates: number;
  failed: number;
  errors: { index: number | null; file: string; reason: string }[];
  ingestWorkflowId: string | null;
}

const HASH_CONCURRENCY = 4;
const RETRIES = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Uploader {
  private phase: Phase = 'ready';
  private hashed = 0;
  private sentBytes = 0;
  private toSendBytes = 0;
  private sendStarted = 0;
  private serverDuplicates = 0;
  private message: string | null = null;
  private ingestWorkflowId: string | null = null;
  private request: XMLHttpRequest | null = null;
  private wake: (() => void) | null = null;
  private listeners = new Set<() => void>();

  constructor(
    readonly slug: string,
    readonly split: Split,
    readonly entries: UploadEntry[],
    private readonly limits: UploadLimits,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed() {
    for (const listener of this.listeners) listener();
  }

  snapshot(): UploadSnapshot {
    const count = (status: FileStatus) => this.entries.filter((e) => e.status === status).length;
    const speed = rateAndEta(
      this.sentBytes,
      this.toSendBytes,
      (performance.now() - this.sendStarted) / 1000,
    );
    const sending = this.phase === 'uploading' || this.phase === 'pausing';
    return {
      phase: this.phase,
      files: this.entries.length,
      bytes: this.entries.reduce((sum, e) => sum + (e.size ?? 0), 0),
      hashed: this.hashed,
      doneFiles: this.entries.length - count('waiting'),
      sentBytes: this.sentBytes,
      toSendBytes: this.toSendBytes,
      imported: count('imported') + count('stored') - this.serverDuplicates,
      duplicates: count('duplicate') + this.serverDuplicates,
      alreadyThere: count('already-there'),
      failed: count('failed'),
      bytesPerSecond: sending && speed ? speed.bytesPerSecond : null,
      etaSeconds: sending && speed ? speed.etaSeconds : null,
      message: this.message,
      ingestWorkflowId: this.ingestWorkflowId,
    };
  }

  /** Starts, or after a pause, a cancel or a lost connection carries on with what is left. */
  start(): void {
    if (this.phase === 'pausing') {
      this.phase = 'uploading';
      this.changed();
      return;
    }
    if (this.phase === 'paused' && this.wake) {
      this.phase = 'uploading';
      this.message = null;
      this.wake();
      this.changed();
      return;
    }
    if (!['ready', 'cancelled', 'paused'].includes(this.phase)) return;
    this.message = null;
    void this.run().catch((error: unknown) => {
      this.phase = 'paused';
      this.message = `Stopped: ${(error as Error).message}. Resume to carry on; what arrived is skipped.`;
      this.changed();
    });
  }

  /** Stops between batches: the batch in flight finishes first. */
  pause(): void {
    if (this.phase === 'uploading') {
      this.phase = 'pausing';
      this.changed();
    }
  }

  /** Stops now: the request in flight is dropped (a resume checks what of it arrived). */
  cancel(): void {
    if (this.phase === 'done' || this.phase === 'ready') return;
    this.phase = 'cancelled';
    this.message = 'Cancelled. Start again to send what is left; what arrived is skipped.';
    this.request?.abort();
    this.wake?.();
    this.changed();
  }

  private get stopped() {
    return this.phase === 'cancelled';
  }

  private async run(): Promise<void> {
    this.phase = 'hashing';
    this.changed();
    await this.hashAll();
    if (this.stopped) return;
    this.markLocalDuplicates();
    this.phase = 'checking';
    this.changed();
    await this.skipKnown();
    if (this.stopped) return;
    const waiting = this.entries.filter((e) => e.status === 'waiting');
    const { batches, tooLarge } = planBatches(
      waiting.map((entry) => ({ entry, size: entry.size ?? 0 })),
      this.limits,
    );
    for (const { entry } of tooLarge) {
      entry.status = 'failed';
      entry.reason = `larger than the ${formatBytes(this.limits.maxFileBytes)} a file may be`;
    }
    this.sentBytes = 0;
    this.toSendBytes = batches.flat().reduce((sum, b) => sum + b.size, 0);
    this.sendStarted = performance.now();
    this.phase = 'uploading';
    this.changed();
    for (const batch of batches) {
      await this.waitWhilePaused();
      if (this.stopped) return;
      const sentBefore = this.sentBytes;
      const result = await this.sendWithRetries(
        batch.map((b) => b.entry),
        sentBefore,
      );
      if (this.stopped || !result) return;
      this.sentBytes = sentBefore + batch.reduce((sum, b) => sum + b.size, 0);
      this.settle(
        batch.map((b) => b.entry),
        result,
      );
      this.changed();
    }
    this.phase = 'done';
    this.message = null;
    this.changed();
  }

  private async hashAll(): Promise<void> {
    const todo = this.entries.filter((e) => !e.hash && e.status === 'waiting');
    this.hashed = this.entries.length - todo.length;
    let next = 0;
    const work = async () => {
      while (next < todo.length && !this.stopped) {
        const entry = todo[next++]!;
        try {
          // Refused before it is read: a huge file must not be pulled into memory.
          if (entry.file.size > this.limits.maxFileBytes) {
            entry.status = 'failed';
            entry.reason = `larger than the ${formatBytes(this.limits.maxFileBytes)} a file may be`;
            this.hashed++;
            continue;
          }
          const bytes = await entry.file.arrayBuffer();
          entry.size = bytes.byteLength;
          entry.hash = await sha256Hex(bytes);
        } catch {
          entry.status = 'failed';
          entry.reason = 'the browser could not read the file (moved or deleted?)';
        }
        this.hashed++;
        if (this.hashed % 50 === 0) this.changed();
      }
    };
    await Promise.all(Array.from({ length: HASH_CONCURRENCY }, work));
    this.changed();
  }

  /** The same image twice in one upload is sent once; the copies say which file they repeat. */
  private markLocalDuplicates(): void {
    const first = new Map<string, UploadEntry>();
    for (const entry of this.entries) {
      if (!entry.hash || entry.status === 'failed') continue;
      const earlier = first.get(entry.hash);
      if (!earlier) first.set(entry.hash, entry);
      else if (entry.status === 'waiting') {
        entry.status = 'duplicate';
        entry.reason = `same image as ${earlier.path}`;
      }
    }
  }

  private async skipKnown(): Promise<void> {
    const waiting = this.entries.filter((e) => e.status === 'waiting' && e.hash);
    // 500 hashes are 34 KB: under the 64 KB a keepalive request (how `call` sends) may carry.
    for (let i = 0; i < waiting.length && !this.stopped; i += 500) {
      const chunk = waiting.slice(i, i + 500);
      const known = new Set(
        (await call(KnownHashes, { slug: this.slug, hashes: chunk.map((e) => e.hash!) }))
          .knownContentHashes,
      );
      for (const entry of chunk) {
        if (known.has(entry.hash!)) entry.status = 'already-there';
      }
    }
    this.changed();
  }

  private async waitWhilePaused(): Promise<void> {
    if (this.phase === 'pausing') {
      this.phase = 'paused';
      this.message = 'Paused. Resume sends the rest.';
      this.changed();
    }
    if (this.phase !== 'paused') return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.wake = null;
  }

  /** A lost connection or a busy server is retried with backoff, then the upload pauses. */
  private async sendWithRetries(
    entries: UploadEntry[],
    sentBefore: number,
  ): Promise<ImportResult | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(entries, sentBefore);
      } catch (error) {
        if (this.stopped) return null;
        const code = error instanceof GraphQLRequestError ? error.code : 'OFFLINE';
        const retryable = ['OFFLINE', 'UNAVAILABLE', 'API_UNREACHABLE', 'RATE_LIMITED'];
        if (!retryable.includes(code)) {
          // The whole request was refused (say, over a limit): each file says why.
          return {
            imported: 0,
            duplicates: 0,
            failed: entries.length,
            errors: entries.map((e, index) => ({
              index,
              file: e.path,
              reason: (error as Error).message,
            })),
            ingestWorkflowId: null,
          };
        }
        this.sentBytes = sentBefore;
        if (attempt >= RETRIES) {
          this.phase = 'paused';
          this.message = `${(error as Error).message} Paused; Resume to carry on (what arrived is skipped).`;
          this.changed();
          await this.waitWhilePaused();
          if (this.stopped) return null;
          attempt = -1;
          continue;
        }
        this.message = `${(error as Error).message} Retrying in ${2 ** attempt} s…`;
        this.changed();
        await sleep(1000 * 2 ** attempt);
        this.message = null;
      }
    }
  }

  private send(entries: UploadEntry[], sentBefore: number): Promise<ImportResult> {
    const form = new FormData();
    const labels = entries.some((e) => e.label) ? entries.map((e) => e.label) : null;
    form.append(
      'operations',
      JSON.stringify({
        query: ImportItems.toString(),
        variables: {
          slug: this.slug,
          split: this.split,
          labels,
          files: entries.map(() => null),
        },
      }),
    );
    form.append(
      'map',
      JSON.stringify(
        Object.fromEntries(entries.map((_, i) => [String(i), [`variables.files.${i}`]])),
      ),
    );
    entries.forEach((e, i) => form.append(String(i), e.file, e.path.split('/').pop()));
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.request = xhr;
      xhr.open('POST', '/api/graphql');
      // Apollo's CSRF guard: a simple cross-site form cannot set this header.
      xhr.setRequestHeader('apollo-require-preflight', 'true');
      xhr.upload.onprogress = (event) => {
        this.sentBytes = sentBefore + event.loaded * (this.batchBytes(entries) / event.total || 0);
        this.changed();
      };
      xhr.onerror = () =>
        reject(new GraphQLRequestError('The connection to the server was lost.', 'OFFLINE'));
      xhr.onabort = () => reject(new GraphQLRequestError('Cancelled.', 'CANCELLED'));
      xhr.onload = () => {
        this.request = null;
        let body: { data?: { importItems: ImportResult }; errors?: never[] };
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          reject(
            new GraphQLRequestError(
              `The server answered ${xhr.status}.`,
              xhr.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL',
            ),
          );
          return;
        }
        if (body.errors?.length) reject(GraphQLRequestError.from(body.errors));
        else if (body.data) resolve(body.data.importItems);
        else reject(new GraphQLRequestError(`The server answered ${xhr.status}.`, 'INTERNAL'));
      };
      xhr.send(form);
    });
  }

  private batchBytes(entries: UploadEntry[]) {
    return entries.reduce((sum, e) => sum + (e.size ?? 0), 0);
  }

  private settle(entries: UploadEntry[], result: ImportResult): void {
    const failed = new Map(result.errors.map((e) => [e.index, e.reason]));
    entries.forEach((entry, i) => {
      if (failed.has(i)) {
        entry.status = 'failed';
        entry.reason = failed.get(i)!;
      } else {
        entry.status = result.duplicates > 0 ? 'stored' : 'imported';
      }
    });
    this.serverDuplicates += result.duplicates;
    if (result.ingestWorkflowId) this.ingestWorkflowId = result.ingestWorkflowId;
  }
}
