import {
  Float64,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  TimestampMillisecond,
  vectorFromArray,
  Utf8,
  type Vector,
} from 'apache-arrow';

/** Media type of an Apache Arrow IPC stream. */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';
/** Media type of CSV answers. */
export const TEXT_CSV = 'text/csv';

/** Response formats of the columnar endpoints. */
export type ColumnarFormat = 'json' | 'csv' | 'arrow';

/**
 * Picks the response format from an `Accept` header (RFC 9110 q-values honoured; ties keep the order json, csv,
 * arrow). Returns null when nothing acceptable is offered (the caller answers 406). No header or `*\/*` → json.
 */
export function negotiateFormat(accept: string | undefined): ColumnarFormat | null {
  if (!accept || !accept.trim()) return 'json';
  const offers: { format: ColumnarFormat; types: string[] }[] = [
    { format: 'json', types: ['application/json'] },
    { format: 'csv', types: ['text/csv'] },
    {
      format: 'arrow',
      types: [ARROW_STREAM, 'application/vnd.apache.arrow.file', 'application/x-apache-arrow-stream'],
    },
  ];
  let best: ColumnarFormat | null = null;
  let bestQ = 0;
  let bestSpec = -1;
  for (const raw of accept.split(',')) {
    const [range, ...params] = raw
      .trim()
      .toLowerCase()
      .split(';')
      .map((p) => p.trim());
    if (!range) continue;
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2));
    if (!(q > 0)) continue;
    for (const o of offers) {
      let spec = -1;
      if (o.types.includes(range)) spec = 2;
      else if (range === '*/*') spec = 0;
      else if (range.endsWith('/*') && o.types.some((t) => t.startsWith(range.slice(0, -1)))) spec = 1;
      if (spec < 0) continue;
      if (q > bestQ || (q === bestQ && spec > bestSpec)) {
        best = o.format;
        bestQ = q;
        bestSpec = spec;
      }
    }
  }
  return best;
}

/** A column of a table to serialise: a timestamp (epoch ms UTC) or a float64 column (NaN → null). */
export type OutputColumn =
  | { name: string; kind: 'timestamp'; values: Float64Array }
  | { name: string; kind: 'double'; values: Float64Array }
  | { name: string; kind: 'string'; value: string };

const TWO_32 = 4294967296;

/**
 * Serialises columns as an Arrow IPC stream: timestamps as `Timestamp<MILLISECOND, UTC>`, doubles as nullable
 * `Float64` (NaN → null), constant strings as `Utf8`. `metadata` goes into the schema's custom metadata.
 */
export function toArrowIpc(
  columns: readonly OutputColumn[],
  length: number,
  metadata: Record<string, string> = {},
): Uint8Array {
  const vectors: Record<string, Vector> = {};
  for (const c of columns) {
    if (c.kind === 'timestamp') {
      const data = new BigInt64Array(length);
      const lo = new Uint32Array(data.buffer);
      const hi = new Int32Array(data.buffer);
      for (let i = 0; i < length; i++) {
        const v = c.values[i];
        const h = Math.floor(v / TWO_32);
        lo[2 * i] = v - h * TWO_32;
        hi[2 * i + 1] = h;
      }
      vectors[c.name] = makeVector(makeData({ type: new TimestampMillisecond('UTC'), length, data }));
    } else if (c.kind === 'double') {
      const values = c.values.length === length ? c.values : c.values.subarray(0, length);
      let nulls = 0;
      const bitmap = new Uint8Array((length + 7) >> 3).fill(0xff);
      for (let i = 0; i < length; i++) {
        if (values[i] !== values[i]) {
          bitmap[i >> 3] &= ~(1 << (i & 7));
          nulls++;
        }
      }
      vectors[c.name] = makeVector(
        nulls
          ? makeData({ type: new Float64(), length, data: values, nullBitmap: bitmap, nullCount: nulls })
          : makeData({ type: new Float64(), length, data: values }),
      );
    } else {
      vectors[c.name] = vectorFromArray(
        Array.from({ length }, () => c.value),
        new Utf8(),
      );
    }
  }
  const table = new Table(vectors);
  for (const [k, v] of Object.entries(metadata)) table.schema.metadata.set(k, v);
  return tableToIPC(table, 'stream');
}

/** Formats a double for CSV: shortest round-trip text, empty for NaN (NULL). */
function csvNumber(v: number): string {
  return v === v ? String(v) : '';
}

/**
 * Serialises columns as CSV with a header line (`\n` line ends): timestamps as ISO-8601 UTC, doubles in shortest
 * round-trip form, NaN as an empty field.
 */
export function toCsv(columns: readonly OutputColumn[], length: number): string {
  const out: string[] = [columns.map((c) => c.name).join(',')];
  for (let i = 0; i < length; i++) {
    let line = '';
    for (let k = 0; k < columns.length; k++) {
      const c = columns[k];
      if (k) line += ',';
      line +=
        c.kind === 'timestamp'
          ? new Date(c.values[i]).toISOString()
          : c.kind === 'double'
            ? csvNumber(c.values[i])
            : c.value;
    }
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}
