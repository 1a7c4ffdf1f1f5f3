/** A small seeded generator (mulberry32): same seed, same sequence, on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a (32-bit) of some bytes: a cheap, stable key, the same on every machine. */
export function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/**
 * Rows in an order set by their values alone (a hash of each vector, ties by the values): the
 * same vectors come out in the same order whatever order, or ids, they came in.
 */
export function inContentOrder<T extends { vector: Float32Array }>(rows: readonly T[]): T[] {
  const bytes = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const compare = (a: Float32Array, b: Float32Array) => {
    for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return a[d]! - b[d]!;
    return 0;
  };
  return rows
    .map((row) => ({ row, key: hashBytes(bytes(row.vector)) }))
    .sort((a, b) => a.key - b.key || compare(a.row.vector, b.row.vector))
    .map((e) => e.row);
}

/** Fisher-Yates shuffle of 0..n-1 with the given generator. */
export function shuffledIndices(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Algorithm R over one stream: at most `size` entries, every one offered equally likely to stay. */
class Sample<T> {
  readonly held: T[] = [];
  private offered = 0;

  constructor(
    private readonly size: number,
    private readonly random: () => number,
  ) {}

  offer(entry: T): void {
    this.offered++;
    if (this.held.length < this.size) {
      this.held.push(entry);
      return;
    }
    const slot = Math.floor(this.random() * this.offered);
    if (slot < this.size) this.held[slot] = entry;
  }
}

/**
 * Seeded uniform samples (algorithm R) of the items offered: at most `size` of those offered
 * plainly and at most `keptSize` of those offered as kept (all of them unless a size is given),
 * each stream with draws of its own, so kept items never change which of the others stay.
 * Items come out in the order offered.
 */
export class Reservoir<T> {
  private readonly sampled: Sample<{ item: T; order: number }>;
  private readonly kept: Sample<{ item: T; order: number }>;
  private order = 0;

  constructor(size: number, seed: number, keptSize = Infinity) {
    this.sampled = new Sample(size, seededRandom(seed));
    this.kept = new Sample(keptSize, seededRandom(seed ^ 0x5bd1e995));
  }

  offer(item: T, keep = false): void {
    (keep ? this.kept : this.sampled).offer({ item, order: this.order++ });
  }

  /** What the samples hold, in the order offered. */
  get items(): T[] {
    return [...this.sampled.held, ...this.kept.held]
      .sort((a, b) => a.order - b.order)
      .map((e) => e.item);
  }
}
