import * as ort from 'onnxruntime-node';
import { AppError } from '@beanstalk/shared';
import type { InferenceThread, Session, Step, StepOutput } from './inference-thread.ts';
import { graphSession } from './onnx-graph.ts';

/** Similarities one search may hold at once (64 MiB of floats). */
const MAX_SIMILARITIES = 16 * 1024 * 1024;

/**
 * Query rows to search at once against `references` rows, so the similarity matrix a page
 * makes stays within MAX_SIMILARITIES (1024 rows at most, 1 at least).
 */
export function queryPageRows(references: number): number {
  return Math.max(1, Math.min(1024, Math.floor(MAX_SIMILARITIES / Math.max(1, references))));
}

/**
 * Exact k nearest neighbours by cosine distance against a fixed set of L2-normalised
 * references, run by onnxruntime (MatMul, then TopK): the answer of `nearestNeighbours`
 * (exact-knn.ts), for bulk work such as scoring a whole pool against the labeled items.
 * Ties go to the lower reference index in both.
 */
export class ReferenceSearch {
  private constructor(
    private readonly session: Session | null,
    private readonly dims: number,
    private readonly k: number,
  ) {}

  /**
   * `k` is capped at the number of references; `threads` 0 lets onnxruntime decide; runs in
   * `thread` when one is given.
   */
  static async create(
    references: Float32Array,
    dims: number,
    k: number,
    threads = 0,
    thread?: InferenceThread,
  ): Promise<ReferenceSearch> {
    const count = references.length / dims;
    const kk = Math.min(k, count);
    if (kk === 0) return new ReferenceSearch(null, dims, 0);
    const transposed = new Float32Array(references.length);
    for (let r = 0; r < count; r++) {
      for (let d = 0; d < dims; d++) transposed[d * count + r] = references[r * dims + d]!;
    }
    const session = await graphSession(
      {
        nodes: [
          { op: 'MatMul', inputs: ['queries', 'references'], outputs: ['similarity'] },
          {
            op: 'TopK',
            inputs: ['similarity', 'k'],
            outputs: ['best', 'index'],
            attributes: { axis: -1, largest: 1, sorted: 1 },
          },
        ],
        initializers: [
          { name: 'references', dims: [dims, count], float32: transposed },
          { name: 'k', dims: [1], int64: BigInt64Array.of(BigInt(kk)) },
        ],
        inputs: [{ name: 'queries', dims: [null, dims] }],
        outputs: [
          { name: 'best', type: 'float32', dims: [null, kk] },
          { name: 'index', type: 'int64', dims: [null, kk] },
        ],
      },
      threads,
      thread,
    );
    return new ReferenceSearch(session, dims, kk);
  }

  /** For each query row: k reference indices, nearest first, and their cosine distances. */
  async search(queries: Float32Array): Promise<{ index: Int32Array; distance: Float32Array }> {
    const n = queries.length / this.dims;
    if (!Number.isInteger(n)) {
      throw new AppError(
        'BAD_USER_INPUT',
        `${queries.length} query values are not whole rows of ${this.dims} dimensions`,
      );
    }
    if (!this.session || n === 0) {
      return { index: new Int32Array(0), distance: new Float32Array(0) };
    }
    return this.found(
      await this.session.run({ queries: new ort.Tensor('float32', queries, [n, this.dims]) }),
    );
  }

  /**
   * `search` as a step of a chain (runSteps), of queries an earlier step computes; null when
   * there are no references (nothing to run: `found(null)` is the empty answer).
   */
  searchStep(queries: StepOutput): Step | null {
    return this.session ? { session: this.session, feeds: { queries } } : null;
  }

  /** A search's outputs (from `search` or its step) as indices and cosine distances. */
  found(out: Record<string, ort.Tensor> | null): { index: Int32Array; distance: Float32Array } {
    if (!out) return { index: new Int32Array(0), distance: new Float32Array(0) };
    const best = out.best!.data as Float32Array;
    const index = Int32Array.from(out.index!.data as BigInt64Array, Number);
    const distance = best.map((s) => 1 - s);
    out.best!.dispose();
    out.index!.dispose();
    return { index, distance };
  }

  get neighbours(): number {
    return this.k;
  }

  release(): Promise<void> {
    return this.session?.release() ?? Promise.resolve();
  }
}
