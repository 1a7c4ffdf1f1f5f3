import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { AppError } from '@beanstalk/shared';
import { normaliseRows } from './exact-knn.ts';

/** What the platform uses of an onnxruntime session, wherever it runs. */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

type SessionOptions = ort.InferenceSession.SessionOptions;
type Model = string | Uint8Array;
type Description = Pick<Session, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>;
interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}
/** An earlier step's output as a later step's input; its rows L2-normalised on the way if asked. */
export interface StepOutput {
  step: number;
  output: string;
  normalise?: boolean;
}

/** One model run of a chain (runSteps): a session and its inputs. */
export interface Step {
  session: Session;
  feeds: Record<string, ort.Tensor | StepOutput>;
}

type Request =
  | { op: 'create'; session: number; model: Model; options: SessionOptions }
  | { op: 'run'; session: number; feeds: Record<string, WireTensor> }
  | {
      op: 'steps';
      steps: { session: number; feeds: Record<string, WireTensor | StepOutput> }[];
    }
  | { op: 'release'; session: number };

const isStepOutput = (feed: ort.Tensor | StepOutput): feed is StepOutput =>
  typeof (feed as StepOutput).step === 'number';

/** A tensor as it crosses to the thread: its values copied out of a larger buffer first. */
function toWire(t: ort.Tensor): WireTensor {
  const data = t.data as Float32Array;
  const own = data.byteLength === data.buffer.byteLength ? data : data.slice();
  return { type: t.type, data: own, dims: t.dims };
}

/**
 * Runs models one after another, each fed tensors or earlier steps' outputs; the outputs of
 * every step, in order. When every session lives in one InferenceThread the whole chain goes
 * to it as one message (one hand-off each way instead of one per model: measured, each
 * hand-off cost both threads about 0.1 ms of CPU on a 2-core virtual machine, as much as a
 * small model); otherwise the steps run here, one by one, with the same results.
 */
export async function runSteps(steps: Step[]): Promise<Record<string, ort.Tensor>[]> {
  const threads = new Set(
    steps.map((s) => (s.session instanceof ThreadSession ? s.session.thread : null)),
  );
  const [thread] = threads;
  if (threads.size === 1 && thread) {
    const sessions = steps.map((s) => s.session as ThreadSession);
    return thread.runSteps(sessions, steps);
  }
  const outputs: Record<string, ort.Tensor>[] = [];
  for (const { session, feeds } of steps) {
    const resolved = Object.fromEntries(
      Object.entries(feeds).map(([name, feed]) => {
        if (!isStepOutput(feed)) return [name, feed];
        const t = outputs[feed.step]![feed.output]!;
        if (!feed.normalise) return [name, t];
        return [
          name,
          new ort.Tensor('float32', normaliseRows(t.data as Float32Array, t.dims[1]!), t.dims),
        ];
      }),
    );
    outputs.push(await session.run(resolved));
  }
  return outputs;
}

/**
 * A session on the calling thread, or in `thread` when one is given. onnxruntime-node runs a
 * session synchronously on the thread that calls `run`, so a server that runs models on its
 * main thread parses and answers nothing else meanwhile.
 */
export async function createSession(
  model: Model,
  options: SessionOptions,
  thread?: InferenceThread,
): Promise<Session> {
  if (thread) return thread.createSession(model, options);
  // Two calls, one per overload of `create` (a path or the model's bytes).
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

/**
 * One worker thread that runs onnxruntime sessions for the process that owns it, so the
 * owner's event loop keeps serving requests while a model runs (the API: parsing uploads,
 * running GraphQL and writing answers for other requests). Calls run one at a time, in order.
 *
 * If the thread dies (a native crash, out of memory), the calls it held fail with UNAVAILABLE
 * and the next call starts a new thread, into which each session loads itself again from the
 * model it was created with.
 */
export class InferenceThread {
  private worker: Worker | null = null;
  /** Counts the threads started, so a session knows whether it is loaded in the current one. */
  private generation = 0;
  private nextId = 1;
  private readonly calls = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private closed = false;

  /** The running thread's generation; 0 when none runs. */
  get running(): number {
    return this.worker ? this.generation : 0;
  }

  /** The current thread's generation, starting one if none runs. */
  current(): number {
    if (this.closed) throw new AppError('UNAVAILABLE', 'the inference thread is closed');
    if (!this.worker) {
      const worker = new Worker(new URL('./inference-thread.worker.mjs', import.meta.url));
      worker.unref(); // held only while calls are pending (see call)
      worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
        const call = this.calls.get(message.id);
        if (!call) return;
        this.calls.delete(message.id);
        if (this.calls.size === 0) worker.unref();
        if (message.error !== undefined) call.reject(new Error(message.error));
        else call.resolve(message.result);
      });
      const lost = (reason: string) => {
        if (this.worker !== worker) return;
        this.worker = null;
        const pending = [...this.calls.values()];
        this.calls.clear();
        for (const call of pending) {
          call.reject(new AppError('UNAVAILABLE', `the inference thread stopped (${reason})`));
        }
      };
      worker.on('error', (error) => lost(error.message));
      worker.on('exit', (code) => lost(`exit code ${code}`));
      this.worker = worker;
      this.generation++;
    }
    return this.generation;
  }

  /** Sends one request to the current thread and waits for its answer. */
  call<T>(request: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.current();
      const worker = this.worker!;
      const id = this.nextId++;
      if (this.calls.size === 0) worker.ref();
      this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, ...request });
    });
  }

  /** A chain of runs of sessions loaded in this thread (see runSteps), as one message. */
  async runSteps(sessions: ThreadSession[], steps: Step[]): Promise<Record<string, ort.Tensor>[]> {
    // Loaded (again, after the thread died) before the chain is sent; a load moves no models.
    for (const session of sessions) await session.load();
    const outputs = await this.call<Record<string, WireTensor>[]>({
      op: 'steps',
      steps: steps.map((step, i) => ({
        session: sessions[i]!.id,
        feeds: Object.fromEntries(
          Object.entries(step.feeds).map(([name, feed]) => [
            name,
            isStepOutput(feed) ? feed : toWire(feed),
          ]),
        ),
      })),
    });
    return outputs.map(fromWire);
  }

  /** A session loaded in this thread. */
  async createSession(model: Model, options: SessionOptions): Promise<Session> {
    const session = new ThreadSession(this, this.nextId++, model, options);
    await session.load();
    return session;
  }

  /** Stops the thread; its sessions are gone and calls pending on it fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    for (const call of this.calls.values()) {
      call.reject(new AppError('UNAVAILABLE', 'the inference thread was closed'));
    }
    this.calls.clear();
    await worker?.terminate();
  }
}

/** Outputs as they come back from the thread. */
const fromWire = (outputs: Record<string, WireTensor>) =>
  Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => [
      name,
      new ort.Tensor(t.type, t.data as Float32Array, t.dims),
    ]),
  );

/** A session living in an InferenceThread: the same calls as one on the calling thread. */
class ThreadSession implements Session {
  private description!: Description;
  /** The thread generation it was loaded into, and the load under way. */
  private loadedIn = 0;
  private loading: Promise<void> | null = null;
  private released = false;

  constructor(
    readonly thread: InferenceThread,
    readonly id: number,
    // Kept to load again into a new thread after the one holding it died.
    private readonly model: Model,
    private readonly options: SessionOptions,
  ) {}

  get inputNames() {
    return this.description.inputNames;
  }
  get outputNames() {
    return this.description.outputNames;
  }
  get inputMetadata() {
    return this.description.inputMetadata;
  }
  get outputMetadata() {
    return this.description.outputMetadata;
  }

  /** Loads it into the current thread unless it is there already. */
  async load(): Promise<void> {
    while (this.loadedIn !== this.thread.current()) {
      const generation = this.thread.current();
      this.loading ??= this.thread
        .call<Description>({
          op: 'create',
          session: this.id,
          model: this.model,
          options: this.options,
        })
        .then((description) => {
          this.description = description;
          this.loadedIn = generation;
        })
        .finally(() => (this.loading = null));
      await this.loading;
    }
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    if (this.released) throw new AppError('INTERNAL', 'run on a released session');
    await this.load();
    // Copied to the thread whole: a view into a larger buffer is cut to itself first.
    const wire = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toWire(t)]));
    const outputs = await this.thread.call<Record<string, WireTensor>>({
      op: 'run',
      session: this.id,
      feeds: wire,
    });
    return fromWire(outputs);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // A thread that died or was closed took the session with it.
    if (this.loadedIn !== this.thread.running) return;
    await this.thread.call({ op: 'release', session: this.id }).catch(() => undefined);
  }
}
