import { mintedSeq } from './fast-id';

/**
 * Envelope ids seen by one stream within the dedup window (JetStream's `duplicate_window` for the in-process bus).
 * Ids the bus minted itself are kept as counters in a growable ring of typed arrays (appended in increasing order,
 * found by binary search); ids given by the caller go to a Map. Both are bounded by `maxIds` (oldest forgotten first)
 * and by the window.
 */
export class DedupIndex {
  private seqs = new Float64Array(1024);
  private times = new Float64Array(1024);
  /** Ring start and length. */
  private start = 0;
  private len = 0;
  private readonly explicit = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxIds: number,
  ) {}

  /** Records an id this process just minted (counter `seq`, strictly increasing across calls). */
  addMinted(seq: number, now: number): void {
    if (this.len === this.seqs.length) {
      if (this.len >= this.maxIds) {
        this.start = (this.start + 1) % this.seqs.length;
        this.len--;
      } else this.grow();
    }
    const i = (this.start + this.len) % this.seqs.length;
    this.seqs[i] = seq;
    this.times[i] = now;
    this.len++;
  }

  /** True when `id` (given by a caller) was seen within the window; otherwise records it and returns false. */
  checkExplicit(id: string, now: number): boolean {
    const at = this.explicit.get(id);
    if (at !== undefined && now - at < this.windowMs) return true;
    const seq = mintedSeq(id);
    if (seq >= 0) {
      const t = this.findMinted(seq);
      if (t >= 0 && now - t < this.windowMs) return true;
    }
    if (at !== undefined) this.explicit.delete(id);
    this.explicit.set(id, now);
    return false;
  }

  /** Records a caller-given id with its original time (journal replay). */
  restore(id: string, at: number): void {
    this.explicit.set(id, at);
  }

  /** Forgets ids older than the window or beyond `maxIds`. */
  prune(now: number): void {
    while (this.len > 0 && now - this.times[this.start] >= this.windowMs) {
      this.start = (this.start + 1) % this.seqs.length;
      this.len--;
    }
    let excess = this.explicit.size - this.maxIds;
    for (const [id, at] of this.explicit) {
      if (excess <= 0 && now - at < this.windowMs) break;
      this.explicit.delete(id);
      excess--;
    }
  }

  /** Time the minted id with counter `seq` was recorded, or -1. */
  private findMinted(seq: number): number {
    let lo = 0;
    let hi = this.len - 1;
    const cap = this.seqs.length;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const i = (this.start + mid) % cap;
      const v = this.seqs[i];
      if (v === seq) return this.times[i];
      if (v < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private grow(): void {
    const cap = Math.min(this.seqs.length * 2, Math.max(this.maxIds, 1024));
    const seqs = new Float64Array(cap);
    const times = new Float64Array(cap);
    for (let k = 0; k < this.len; k++) {
      const i = (this.start + k) % this.seqs.length;
      seqs[k] = this.seqs[i];
      times[k] = this.times[i];
    }
    this.seqs = seqs;
    this.times = times;
    this.start = 0;
  }
}
