/**
 * Value-by-value comparison of one feature column with a peer's: where NaN sits, and how far apart defined values are
 * relative to their size, with a floor of the column's typical size so values near zero are held to an absolute
 * bound (1e-9 of a typical |value|) instead of an impossible relative one.
 */
export interface ColumnDiff {
  /** Bars where exactly one side is NaN. */
  nanMismatches: number;
  /** First such bar, or -1. */
  firstNanMismatch: number;
  /** Bars where both sides are defined. */
  defined: number;
  /** max |ours - peer| / max(|peer|, mean |peer|) over defined bars. */
  maxRelDiff: number;
  /** Bar of `maxRelDiff`, or -1. */
  atIndex: number;
  /** max |ours - peer| over defined bars. */
  maxAbsDiff: number;
}

/** Compares `ours` with `peer` (same length) bar by bar. */
export function compareColumns(ours: Float64Array, peer: Float64Array): ColumnDiff {
  if (ours.length !== peer.length) throw new RangeError(`lengths differ: ${ours.length} vs ${peer.length}`);
  let sumAbs = 0;
  let defined = 0;
  for (let i = 0; i < peer.length; i++) {
    if (!Number.isNaN(peer[i]) && !Number.isNaN(ours[i])) {
      sumAbs += Math.abs(peer[i]);
      defined++;
    }
  }
  const floor = defined > 0 ? sumAbs / defined : 0;
  const d: ColumnDiff = { nanMismatches: 0, firstNanMismatch: -1, defined, maxRelDiff: 0, atIndex: -1, maxAbsDiff: 0 };
  for (let i = 0; i < peer.length; i++) {
    const a = ours[i];
    const b = peer[i];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) {
        if (d.nanMismatches++ === 0) d.firstNanMismatch = i;
      }
      continue;
    }
    const abs = a === b ? 0 : Math.abs(a - b);
    // Infinite on one side only (a division by zero the other side guards) is an infinite difference.
    const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(b), floor);
    if (!(rel <= d.maxRelDiff)) {
      d.maxRelDiff = Number.isNaN(rel) ? Infinity : rel;
      d.atIndex = i;
    }
    if (!(abs <= d.maxAbsDiff)) d.maxAbsDiff = Number.isNaN(abs) ? Infinity : abs;
  }
  return d;
}
