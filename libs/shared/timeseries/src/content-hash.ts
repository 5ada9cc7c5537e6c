import { createHash } from 'node:crypto';

/**
 * The columns {@link barsContentHash} reads (marketdata's `BarColumns` has this shape): `length` bars, times in epoch ms
 * UTC, prices in quote currency, volume in units traded, `adjClose` when the source had one.
 */
export interface HashedBars {
  length: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  adjClose: Float64Array | null;
}

/** Version tag mixed into every content hash; bump when the normalisation below changes. */
export const CONTENT_HASH_SCHEME = 'strata-bars-v1';

function update(h: ReturnType<typeof createHash>, a: Float64Array, length: number): void {
  h.update(new Uint8Array(a.buffer, a.byteOffset, length * 8));
}

/**
 * SHA-256 (lower-case hex) of the normalised accepted bars: the scheme tag, the column list, the row count, then
 * each column (ts, open, high, low, close, volume[, adj_close]) as IEEE-754 float64 little-endian bytes.
 * Normalised means parsed values, not source text: `97.310000` and `97.31`, `2021-01-04` and
 * `2021-01-04T00:00:00Z`, CRLF and LF, reordered columns all hash the same; -0 is stored as +0 by the parser.
 * Rejected rows do not contribute. Symbol and timeframe are not part of the hash.
 */
export function barsContentHash(bars: HashedBars): string {
  if (new Uint8Array(new Float64Array([1]).buffer)[7] !== 0x3f)
    throw new Error('barsContentHash requires a little-endian platform');
  const h = createHash('sha256');
  const cols = bars.adjClose ? 'ts,open,high,low,close,volume,adj_close' : 'ts,open,high,low,close,volume';
  h.update(`${CONTENT_HASH_SCHEME}\n${cols}\n${bars.length}\n`);
  update(h, bars.ts, bars.length);
  update(h, bars.open, bars.length);
  update(h, bars.high, bars.length);
  update(h, bars.low, bars.length);
  update(h, bars.close, bars.length);
  update(h, bars.volume, bars.length);
  if (bars.adjClose) update(h, bars.adjClose, bars.length);
  return h.digest('hex');
}
