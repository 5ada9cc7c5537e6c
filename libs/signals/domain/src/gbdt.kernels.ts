/**
 * The GBDT trainer's row kernels over leaf-ordered records: histogram building and partitioning, the two passes that
 * take most of the training time (`trainGbdt` in `gbdt.trainer.ts` orchestrates them).
 *
 * Why generated code: the histogram pass adds each record's gradient to one cell per feature. Generated with the loop
 * over the features unrolled and every histogram offset a literal, V8 emits one load per four bins and no loop
 * overhead (about 2× the byte-wise loop, measured); the partition's record copy is unrolled likewise. The sources are
 * built from integers computed here (record width, offsets), never from data, and cached per shape so that V8 keeps
 * its optimised code across trainings. Records wider than {@link MAX_UNROLLED_WORDS} bin words use plain loops.
 *
 * Record layout (a Uint32Array per record buffer, `R = W + 1` words per record; values in a parallel array):
 * - words 0 .. W − 1: the row's bins, four features per word (feature f in bits 8·(f & 3) of word f >> 2; padding 0);
 * - word W: the row id;
 * - values: one int32 quantized code per record, ((gq + qg) << qhBits) | hq, or a float64 g, h pair.
 * Histograms: {@link BINS_PER_FEATURE} cells per feature, each one float64 (quantized: Σ gq·qShift + hq, exact
 * integers) or {@link HIST_STRIDE} float64 (Σg, Σh).
 *
 * Invariant: a leaf's records fill a contiguous range of a buffer. With exact gradients they are in row order or, when
 * `reversed` is 1, in descending row order; every kernel visits a reversed range from its end, so each leaf is summed
 * in row order and the float sums (hence the trees) do not depend on which buffer or direction a leaf's records have.
 * Quantized histograms sum exact integers, which no order changes, so quantized training partitions in place
 * ({@link inPlacePartitionKernel}) and a leaf's records are in no particular order.
 */

/** Histogram cells per feature: 255 value bins and the missing bin. */
export const BINS_PER_FEATURE = 256;
/** Float64 cells per bin of an exact histogram (Σg, Σh); quantized histograms hold one packed value per bin. */
export const HIST_STRIDE = 2;

/**
 * Histogram kernel over every feature of the records [begin, end) of `records` (`R` words each, bins in the first
 * words); `values` holds each record's quantized gradient code (one per record, decoded with qg, qhBits, qShift as
 * in `quantizeGradients` of `gbdt.trainer.ts`) or its g, h pair. `reversed` (1) visits the records from the end, so
 * that a reversed leaf is summed in row order as well (exact float sums depend on it).
 */
export type HistogramKernel = (
  hist: Float64Array,
  records: Uint32Array,
  values: Float64Array | Int32Array,
  begin: number,
  end: number,
  reversed: number,
  R: number,
  qg: number,
  qhBits: number,
  qShift: number,
) => void;

/**
 * Partition of the records [begin, end) of (srcRecords, srcValues) into the same positions of (dstRecords, dstValues),
 * in one pass: the records are visited in row order (from the end when `reversed` is 1); those whose bin
 * `(word >>> shift) & 255` (word `word` of the record) has `goLeft[bin] = 1` are written forwards from `begin` (the
 * left child, in row order), the others backwards from `end − 1` (the right child, reversed). Returns the end of the
 * left part.
 */
export type PartitionKernel = (
  srcRecords: Uint32Array,
  srcValues: Float64Array | Int32Array,
  dstRecords: Uint32Array,
  dstValues: Float64Array | Int32Array,
  begin: number,
  end: number,
  reversed: number,
  word: number,
  shift: number,
  goLeft: Uint8Array,
) => number;

const histogramKernels = new Map<string, HistogramKernel>();
const partitionKernels = new Map<string, PartitionKernel>();

/** Records of up to this many bin words get fully unrolled generated kernels (wider ones loops over the words). */
const MAX_UNROLLED_WORDS = 16;

/**
 * The histogram kernel for records of `words` 32-bit words of bins (4 features per word) plus the row id, over packed
 * quantized gradients (one float64 add per cell) or exact ones (Σg, Σh: two adds per cell): generated and fully
 * unrolled for up to {@link MAX_UNROLLED_WORDS} words (see the module header), a loop over the words beyond. Cached
 * per shape.
 */
export function histogramKernel(words: number, packedGradients: boolean): HistogramKernel {
  const key = `${words}:${packedGradients}`;
  let kernel = histogramKernels.get(key);
  if (kernel) return kernel;
  const stride = packedGradients ? 1 : HIST_STRIDE;
  if (words > MAX_UNROLLED_WORDS) {
    kernel = packedGradients ? accumulatePackedWords : accumulateExactWords;
  } else {
    const lines: string[] = [];
    for (let q = 0; q < words; q++) {
      lines.push(`w = B[o + ${q}];`);
      for (let k = 0; k < 4; k++) {
        const bin = k === 0 ? 'w & 255' : k === 3 ? 'w >>> 24' : `(w >>> ${8 * k}) & 255`;
        const base = (4 * q + k) * BINS_PER_FEATURE * stride;
        if (packedGradients) lines.push(`h[${base} + (${bin})] += v;`);
        else lines.push(`c = ${base} + ((${bin}) << 1); h[c] += g; h[c + 1] += hh;`);
      }
    }
    const load = packedGradients
      ? 'const q = V[i]; const v = ((q >>> hb) - qg) * sh + (q & hm);'
      : 'const g = V[2 * i]; const hh = V[2 * i + 1]; let c = 0;';
    const src = `'use strict'; const hm = (1 << hb) - 1; const step = reversed === 1 ? -1 : 1; for (let k = begin, i = reversed === 1 ? end - 1 : begin; k < end; k++, i += step) { const o = i * ${words + 1}; ${load} let w = 0;\n${lines.join('\n')}\n}`;
    kernel = new Function('h', 'B', 'V', 'begin', 'end', 'reversed', 'R', 'qg', 'hb', 'sh', src) as HistogramKernel;
  }
  histogramKernels.set(key, kernel);
  return kernel;
}

/** Packed-gradient histogram, any record width: a loop over the bin words, four adds per word. */
function accumulatePackedWords(
  hist: Float64Array,
  records: Uint32Array,
  codes: Float64Array | Int32Array,
  begin: number,
  end: number,
  reversed: number,
  R: number,
  qg: number,
  qhBits: number,
  qShift: number,
): void {
  const W = R - 1;
  const hm = (1 << qhBits) - 1;
  const step = reversed === 1 ? -1 : 1;
  for (let k = begin, i = reversed === 1 ? end - 1 : begin; k < end; k++, i += step) {
    const q = codes[i];
    const v = ((q >>> qhBits) - qg) * qShift + (q & hm);
    for (let q = 0, o = i * R, b = 0; q < W; q++, o++, b += 4 * BINS_PER_FEATURE) {
      const w = records[o];
      hist[b + (w & 255)] += v;
      hist[b + BINS_PER_FEATURE + ((w >>> 8) & 255)] += v;
      hist[b + 2 * BINS_PER_FEATURE + ((w >>> 16) & 255)] += v;
      hist[b + 3 * BINS_PER_FEATURE + (w >>> 24)] += v;
    }
  }
}

/** Exact-gradient histogram (Σg, Σh per cell), any record width. */
function accumulateExactWords(
  hist: Float64Array,
  records: Uint32Array,
  gh: Float64Array | Int32Array,
  begin: number,
  end: number,
  reversed: number,
  R: number,
): void {
  const W = R - 1;
  const FB = BINS_PER_FEATURE * HIST_STRIDE;
  const step = reversed === 1 ? -1 : 1;
  for (let k = begin, i = reversed === 1 ? end - 1 : begin; k < end; k++, i += step) {
    const g = gh[2 * i];
    const h = gh[2 * i + 1];
    for (let q = 0, o = i * R, b = 0; q < W; q++, o++, b += 4 * FB) {
      const w = records[o];
      let c = b + ((w & 255) << 1);
      hist[c] += g;
      hist[c + 1] += h;
      c = b + FB + (((w >>> 8) & 255) << 1);
      hist[c] += g;
      hist[c + 1] += h;
      c = b + 2 * FB + (((w >>> 16) & 255) << 1);
      hist[c] += g;
      hist[c + 1] += h;
      c = b + 3 * FB + ((w >>> 24) << 1);
      hist[c] += g;
      hist[c + 1] += h;
    }
  }
}

/** Exact-gradient histogram over the features `used[0 .. nUsed)` of the records [begin, end). */
export function accumulateFeatures(
  hist: Float64Array,
  records: Uint32Array,
  R: number,
  used: Int32Array,
  nUsed: number,
  begin: number,
  end: number,
  reversed: number,
  gh: Float64Array,
): void {
  const step = reversed === 1 ? -1 : 1;
  for (let k = begin, i = reversed === 1 ? end - 1 : begin; k < end; k++, i += step) {
    const g = gh[2 * i];
    const h = gh[2 * i + 1];
    const o = i * R;
    for (let u = 0; u < nUsed; u++) {
      const f = used[u];
      const k = (f * BINS_PER_FEATURE + ((records[o + (f >> 2)] >>> ((f & 3) << 3)) & 255)) * HIST_STRIDE;
      hist[k] += g;
      hist[k + 1] += h;
    }
  }
}

/** Packed-gradient histogram over the features `used[0 .. nUsed)` of the records [begin, end). */
export function accumulatePackedFeatures(
  hist: Float64Array,
  records: Uint32Array,
  R: number,
  used: Int32Array,
  nUsed: number,
  begin: number,
  end: number,
  reversed: number,
  codes: Int32Array,
  qg: number,
  qhBits: number,
  qShift: number,
): void {
  const hm = (1 << qhBits) - 1;
  const step = reversed === 1 ? -1 : 1;
  for (let k = begin, i = reversed === 1 ? end - 1 : begin; k < end; k++, i += step) {
    const q = codes[i];
    const v = ((q >>> qhBits) - qg) * qShift + (q & hm);
    const o = i * R;
    for (let u = 0; u < nUsed; u++) {
      const f = used[u];
      hist[f * BINS_PER_FEATURE + ((records[o + (f >> 2)] >>> ((f & 3) << 3)) & 255)] += v;
    }
  }
}

/**
 * The partition kernel for records of `R` words with `vs` values each (1: quantized code, 2: g and h): one sequential
 * pass, branch-free (each record's destination is selected with a mask, not branched on: 15% faster than `? :`,
 * measured). Generated with the record copy unrolled for up to {@link MAX_UNROLLED_WORDS} + 1 words.
 */
export function partitionKernel(R: number, vs: number): PartitionKernel {
  const key = `${R}:${vs}`;
  let kernel = partitionKernels.get(key);
  if (kernel) return kernel;
  const copy =
    R - 1 > MAX_UNROLLED_WORDS
      ? `for (let c = 0; c < ${R}; c++) D[t + c] = S[o + c];`
      : Array.from({ length: R }, (_, c) => `D[t + ${c}] = S[o + ${c}];`).join(' ');
  const copyValues = vs === 1 ? 'DV[p] = SV[i];' : 'DV[2 * p] = SV[2 * i]; DV[2 * p + 1] = SV[2 * i + 1];';
  const src = `'use strict';
let li = begin;
let ri = end - 1;
const step = reversed === 1 ? -1 : 1;
for (let k = begin, i = reversed === 1 ? end - 1 : begin; k < end; k++, i += step) {
  const o = i * ${R};
  const isLeft = goLeft[(S[o + word] >>> shift) & 255];
  const m = -isLeft;
  const p = (li & m) | (ri & ~m);
  li += isLeft;
  ri -= 1 - isLeft;
  const t = p * ${R};
  ${copy}
  ${copyValues}
}
return li;`;
  kernel = new Function(
    'S',
    'SV',
    'D',
    'DV',
    'begin',
    'end',
    'reversed',
    'word',
    'shift',
    'goLeft',
    src,
  ) as PartitionKernel;
  partitionKernels.set(key, kernel);
  return kernel;
}

/**
 * In-place partition of the records [begin, end) of (records, codes) (one int32 value per record): afterwards the
 * records whose bin `(word >>> shift) & 255` (word `word` of the record) has `goLeft[bin] = 1` fill [begin, return
 * value), the others [return value, end). Not stable: the order of the records inside a child is not kept, which the
 * quantized histograms (exact integer sums) do not see. Returns the end of the left part.
 */
export type InPlacePartitionKernel = (
  records: Uint32Array,
  codes: Int32Array,
  begin: number,
  end: number,
  word: number,
  shift: number,
  goLeft: Uint8Array,
) => number;

const inPlacePartitionKernels = new Map<number, InPlacePartitionKernel>();
/** Records classified per block by the in-place partition. */
const PARTITION_BLOCK = 128;

/**
 * The in-place partition kernel for records of `R` words: a block partition after BlockQuicksort (Edelkamp & Weiß,
 * 2016). Blocks of {@link PARTITION_BLOCK} records are classified from both ends without branches (the offsets of the
 * records on the wrong side are collected), then the misplaced records are swapped pairwise; the last ≤ 2 blocks are
 * partitioned by Hoare's scheme. A record moves only when it is on the wrong side, so a split writes about half the
 * bytes of a copying partition (which writes every record), the cost that dominates big leaves (memory-bound).
 * Generated with the record swap unrolled for up to {@link MAX_UNROLLED_WORDS} + 1 words.
 */
export function inPlacePartitionKernel(R: number): InPlacePartitionKernel {
  let kernel = inPlacePartitionKernels.get(R);
  if (kernel) return kernel;
  const swapWords =
    R - 1 > MAX_UNROLLED_WORDS
      ? `for (let c = 0; c < ${R}; c++) { const t = S[a + c]; S[a + c] = S[b + c]; S[b + c] = t; }`
      : Array.from({ length: R }, (_, c) => `t = S[a + ${c}]; S[a + ${c}] = S[b + ${c}]; S[b + ${c}] = t;`).join(' ');
  const swap = (x: string, y: string) =>
    `{ const a = (${x}) * ${R}; const b = (${y}) * ${R}; let t = 0; ${swapWords} t = V[${x}]; V[${x}] = V[${y}]; V[${y}] = t; }`;
  const src = `'use strict';
const BS = ${PARTITION_BLOCK};
let l = begin;
let r = end;
let numL = 0;
let numR = 0;
let startL = 0;
let startR = 0;
while (r - l > 2 * BS) {
  if (numL === 0) {
    startL = 0;
    for (let k = 0, o = l * ${R} + word; k < BS; k++, o += ${R}) {
      offL[numL] = k;
      numL += 1 - goLeft[(S[o] >>> shift) & 255];
    }
  }
  if (numR === 0) {
    startR = 0;
    for (let k = 0, o = (r - 1) * ${R} + word; k < BS; k++, o -= ${R}) {
      offR[numR] = k;
      numR += goLeft[(S[o] >>> shift) & 255];
    }
  }
  const num = numL < numR ? numL : numR;
  for (let k = 0; k < num; k++) {
    const x = l + offL[startL + k];
    const y = r - 1 - offR[startR + k];
    ${swap('x', 'y')}
  }
  numL -= num;
  numR -= num;
  startL += num;
  startR += num;
  if (numL === 0) l += BS;
  if (numR === 0) r -= BS;
}
let i = l;
let j = r - 1;
for (;;) {
  while (i <= j && goLeft[(S[i * ${R} + word] >>> shift) & 255] === 1) i++;
  while (i <= j && goLeft[(S[j * ${R} + word] >>> shift) & 255] === 0) j--;
  if (i >= j) break;
  ${swap('i', 'j')}
  i++;
  j--;
}
return i;`;
  const body = new Function('S', 'V', 'begin', 'end', 'word', 'shift', 'goLeft', 'offL', 'offR', src) as (
    ...a: unknown[]
  ) => number;
  const offL = new Uint8Array(PARTITION_BLOCK);
  const offR = new Uint8Array(PARTITION_BLOCK);
  kernel = (records, codes, begin, end, word, shift, goLeft) =>
    body(records, codes, begin, end, word, shift, goLeft, offL, offR);
  inPlacePartitionKernels.set(R, kernel);
  return kernel;
}

/** Copies the records (and values) of the rows `rows[0 .. m)` of the row-order set to positions 0 .. m − 1. */
export function gatherRecords(
  rowRecords: Uint32Array,
  rowValues: Float64Array | Int32Array,
  dst: Uint32Array,
  dstValues: Float64Array | Int32Array,
  rows: Int32Array,
  m: number,
  R: number,
): void {
  const vs = rowValues.length === rowRecords.length / R ? 1 : 2;
  for (let i = 0; i < m; i++) {
    const r = rows[i];
    for (let k = 0, o = r * R, t = i * R; k < R; k++) dst[t + k] = rowRecords[o + k];
    if (vs === 1) dstValues[i] = rowValues[r];
    else {
      dstValues[2 * i] = rowValues[2 * r];
      dstValues[2 * i + 1] = rowValues[2 * r + 1];
    }
  }
}

/** leafOf[row id] = leaf for the records [begin, end) (row id in word `W` of each record). */
export function markLeafRows(
  records: Uint32Array,
  R: number,
  W: number,
  begin: number,
  end: number,
  leafOf: Uint8Array | Int32Array,
  leaf: number,
): void {
  for (let o = begin * R + W, e = end * R + W; o < e; o += R) leafOf[records[o]] = leaf;
}
