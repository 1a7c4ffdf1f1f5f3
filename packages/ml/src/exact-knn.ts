/**
 * Exact k nearest neighbours by cosine distance for L2-normalised rows held in memory
 * (queries x references, flat). For evaluation and benchmarks; the platform's serving path
 * is pgvector.
 */
export function nearestNeighbours(
  references: Float32Array,
  queries: Float32Array,
  dims: number,
  k: number,
): { index: Int32Array; distance: Float32Array } {
  const nRef = references.length / dims;
  const nQuery = queries.length / dims;
  const kk = Math.min(k, nRef);
  const index = new Int32Array(nQuery * kk);
  const distance = new Float32Array(nQuery * kk);
  const sims = new Float32Array(nRef);
  for (let q = 0; q < nQuery; q++) {
    const qo = q * dims;
    for (let r = 0; r < nRef; r++) {
      let dot = 0;
      const ro = r * dims;
      for (let d = 0; d < dims; d++) dot += queries[qo + d]! * references[ro + d]!;
      sims[r] = dot;
    }
    // Partial selection of the k most similar, kept sorted (k is small).
    const bestIdx = new Int32Array(kk).fill(-1);
    const bestSim = new Float32Array(kk).fill(-Infinity);
    for (let r = 0; r < nRef; r++) {
      const s = sims[r]!;
      if (s <= bestSim[kk - 1]!) continue;
      let pos = kk - 1;
      while (pos > 0 && bestSim[pos - 1]! < s) {
        bestSim[pos] = bestSim[pos - 1]!;
        bestIdx[pos] = bestIdx[pos - 1]!;
        pos--;
      }
      bestSim[pos] = s;
      bestIdx[pos] = r;
    }
    for (let j = 0; j < kk; j++) {
      index[q * kk + j] = bestIdx[j]!;
      distance[q * kk + j] = 1 - bestSim[j]!;
    }
  }
  return { index, distance };
}

/** Cosine distance of two L2-normalised vectors. */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return 1 - dot;
}

/** Rows scaled to unit length (for backbone features before cosine kNN). */
export function normaliseRows(values: Float32Array, dims: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < values.length / dims; r++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += values[r * dims + d]! ** 2;
    norm = Math.sqrt(norm) + 1e-12;
    for (let d = 0; d < dims; d++) out[r * dims + d] = values[r * dims + d]! / norm;
  }
  return out;
}

/** The given rows of a flat row-major matrix, in the given order. */
export function pickRows(
  source: Float32Array,
  dims: number,
  indices: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(indices.length * dims);
  for (let i = 0; i < indices.length; i++) {
    out.set(source.subarray(indices[i]! * dims, (indices[i]! + 1) * dims), i * dims);
  }
  return out;
}

/** Rows (each `dims` long) stacked into one flat row-major matrix. */
export function stackRows(rows: ArrayLike<number>[], dims: number): Float32Array {
  const out = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => out.set(r, i * dims));
  return out;
}
