/**
 * A 64-bit content hash (two 32-bit FNV-1a-style lanes with a murmur3 finaliser) over the exact bit patterns of
 * numbers: equal fingerprints mean bit-identical inputs (up to hash collisions, ~2⁻⁶⁴). Not cryptographic.
 */
export class Fingerprint {
  private a = 0x811c9dc5 | 0;
  private b = 0x01000193 ^ 0x5bd1e995;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  /** Feeds one 32-bit word. */
  word(w: number): this {
    this.a = Math.imul(this.a ^ w, 0x01000193);
    this.b = Math.imul(this.b ^ w, 0x5bd1e995) ^ (this.b >>> 15);
    return this;
  }

  /** Feeds the IEEE-754 bits of a number (NaN payloads normalised by the engine's arithmetic). */
  number(x: number): this {
    this.f64[0] = x;
    return this.word(this.u32[0]).word(this.u32[1]);
  }

  /** Feeds every element of a Float64Array, bit for bit. */
  array(x: Float64Array): this {
    this.word(x.length);
    const u = new Uint32Array(x.buffer, x.byteOffset, x.length * 2);
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < u.length; i++) {
      const w = u[i];
      a = Math.imul(a ^ w, 0x01000193);
      b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 15);
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** Feeds a string (UTF-16 code units). */
  string(s: string): this {
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    return this;
  }

  /** 16 hex digits. */
  hex(): string {
    const fmix = (h: number): number => {
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      return (h ^ (h >>> 16)) >>> 0;
    };
    return (
      fmix(this.a).toString(16).padStart(8, '0') +
      fmix(this.b ^ this.a)
        .toString(16)
        .padStart(8, '0')
    );
  }
}
