import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = Buffer.allocUnsafe(4);
randomFillSync(POOL);
/** 30 random bits identifying ids minted by this process (bytes 8–11 of the UUID, variant bits aside). */
const TAG_HEX = HEX[(POOL[0] & 0x3f) | 0x80] + HEX[POOL[1]] + '-' + HEX[POOL[2]] + HEX[POOL[3]];
const TAG_PART = ('-' + TAG_HEX).split('').join('');
let lastMs = -1;
let msSeq = 0;
/** `tttttttt-tttt-` for the current millisecond (flat string, rebuilt once per ms). */
let msPrefix = '';
/** Ids minted by this process so far; the low 32 bits end every id. */
let minted = 0;
const HEX4: string[] = Array.from({ length: 0x1000 }, (_, i) => (0x7000 | i).toString(16));

/**
 * A UUIDv7 (RFC 9562) for envelope ids: 48-bit Unix ms timestamp, version 7, a 12-bit per-millisecond counter (ids of
 * this process sort by creation), then a 30-bit random process tag and the low 32 bits of a process-wide counter.
 * Unique within the process by the counter, across processes by the timestamp plus tag; cheap (no `randomBytes`
 * per id, which costs microseconds, and few string pieces). {@link mintedSeq} recovers the counter, so the bus can
 * remember the ids it minted as numbers in a typed array instead of strings in a Map.
 */
export function fastUuidv7(now: number = Date.now()): string {
  if (now === lastMs) msSeq = (msSeq + 1) & 0xfff;
  else {
    lastMs = now;
    msSeq = 0;
    const hi = Math.floor(now / 0x1_0000_0000);
    const lo = now >>> 0;
    msPrefix =
      HEX[(hi >>> 8) & 0xff] +
      HEX[hi & 0xff] +
      HEX[lo >>> 24] +
      HEX[(lo >>> 16) & 0xff] +
      '-' +
      HEX[(lo >>> 8) & 0xff] +
      HEX[lo & 0xff] +
      '-';
    // Flatten once per millisecond so every id of this ms shares one flat prefix.
    msPrefix = msPrefix.split('').join('');
  }
  const c = minted++ % 0x1_0000_0000;
  return (
    msPrefix + HEX4[msSeq] + TAG_PART + HEX[c >>> 24] + HEX[(c >>> 16) & 0xff] + HEX[(c >>> 8) & 0xff] + HEX[c & 0xff]
  );
}

/** Counter value the most recent {@link fastUuidv7} call used (-1 before the first). */
export function lastMintedSeq(): number {
  return minted - 1;
}

/**
 * The process-wide counter of an id minted by {@link fastUuidv7} in this process, or -1 for any other id. Ids minted
 * more than 2^32 ids ago are not recognised (their counter is ambiguous).
 */
export function mintedSeq(id: string): number {
  if (id.length !== 36 || id.charCodeAt(14) !== 0x37 /* '7' */ || id.slice(19, 28) !== TAG_HEX) return -1;
  const low = parseInt(id.slice(28), 16);
  if (!(low >= 0)) return -1;
  const cur = minted - 1;
  if (cur < 0) return -1;
  const full = cur - (((cur % 0x1_0000_0000) - low + 0x1_0000_0000) % 0x1_0000_0000);
  return full >= 0 ? full : -1;
}

let isoMs = -1;
let isoStr = '';

/** `new Date(now).toISOString()`, cached per millisecond (publishing mints one timestamp per message). */
export function isoNow(now: number = Date.now()): string {
  if (now !== isoMs) {
    isoMs = now;
    isoStr = new Date(now).toISOString();
  }
  return isoStr;
}
