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
