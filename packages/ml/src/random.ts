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

/**
 * A seeded uniform sample of at most `size` of the items offered (algorithm R), plus
 * every item offered as kept. Items stay in the order offered while the sample holds them all;
 * past that, a newcomer takes a sampled item's place.
 */
export class Reservoir<T> {
  private readonly held: T[] = [];
  /** Positions in `held` of sampled (not kept) items. */
  private readonly sampledAt: number[] = [];
  private offered = 0;
  private readonly random: () => number;

  constructor(
    private readonly size: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  offer(item: T, keep = false): void {
    if (keep) {
      this.held.push(item);
      return;
    }
    this.offered++;
    if (this.sampledAt.length < this.size) {
      this.sampledAt.push(this.held.length);
      this.held.push(item);
      return;
    }
    const slot = Math.floor(this.random() * this.offered);
    if (slot < this.size) this.held[this.sampledAt[slot]!] = item;
  }

  get items(): readonly T[] {
    return this.held;
  }
}
