// Near-duplicate images: pairs whose signatures (signature.ts) are within a cosine distance of
// each other (a re-shot part, the same image re-encoded, brighter, or a pixel off). Exact
// duplicates never get this far: the blob store keys images by content hash.
import { queryPageRows, ReferenceSearch } from './knn-onnx.ts';

/**
 * Cosine distance between signatures below which two images count as near-duplicates.
 * bench:data-quality chose it on Fashion-MNIST with copies shifted, noised and brightened.
 */
export const NEAR_DUPLICATE_DISTANCE = 0.005;

/** Two rows within the threshold: `index` > `of`, so each pair appears once. */
export interface NearDuplicatePair {
  index: number;
  of: number;
  distance: number;
}

/**
 * Every pair of L2-normalised rows within `threshold` cosine distance, among each searched row's
 * `k` nearest others (onnxruntime's exact search, in pages); `onPage` reports progress.
 * `queryRows` searches only those rows (against all): the new items of an ingest.
 */
export async function nearDuplicatePairs(
  vectors: Float32Array,
  dims: number,
  threshold = NEAR_DUPLICATE_DISTANCE,
  k = 5,
  onPage?: (done: number, total: number) => void,
  queryRows?: readonly number[],
): Promise<NearDuplicatePair[]> {
  const rows = vectors.length / dims;
  const queries = queryRows ?? Array.from({ length: rows }, (_, r) => r);
  const search = await ReferenceSearch.create(vectors, dims, k + 1);
  const pairs = new Map<string, NearDuplicatePair>();
  try {
    const size = queryPageRows(rows);
    for (let start = 0; start < queries.length; start += size) {
      const page = queries.slice(start, start + size);
      const batch = new Float32Array(page.length * dims);
      page.forEach((r, n) => batch.set(vectors.subarray(r * dims, (r + 1) * dims), n * dims));
      const { index, distance } = await search.search(batch);
      const kk = index.length / page.length;
      page.forEach((r, n) => {
        for (let j = 0; j < kk; j++) {
          const other = index[n * kk + j]!;
          const d = distance[n * kk + j]!;
          // Sorted nearest first: nothing further down is closer.
          if (d > threshold) break;
          if (other === r) continue;
          const pair = { index: Math.max(r, other), of: Math.min(r, other), distance: d };
          pairs.set(`${pair.index}:${pair.of}`, pair);
        }
      });
      onPage?.(start + page.length, queries.length);
    }
  } finally {
    await search.release();
  }
  return [...pairs.values()].sort((a, b) => a.index - b.index || a.of - b.of);
}

/**
 * Pairs joined into groups (connected components), each listed smallest row first, groups in
 * order of their first row: the first row of a group is the image the others duplicate.
 */
export function nearDuplicateGroups(pairs: readonly NearDuplicatePair[]): number[][] {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let root = x;
    while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root)!;
    // Path compression keeps long chains cheap.
    while (x !== root) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  for (const { index, of } of pairs) {
    if (!parent.has(index)) parent.set(index, index);
    if (!parent.has(of)) parent.set(of, of);
    const a = find(index);
    const b = find(of);
    if (a !== b) parent.set(Math.max(a, b), Math.min(a, b));
  }
  const groups = new Map<number, number[]>();
  for (const x of [...parent.keys()].sort((a, b) => a - b)) {
    const root = find(x);
    groups.set(root, [...(groups.get(root) ?? []), x]);
  }
  return [...groups.values()].sort((a, b) => a[0]! - b[0]!);
}
