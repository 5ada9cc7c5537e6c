import {
  Field,
  Float64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';
import type {
  AppliedAdjustment,
  BarColumns,
  BarQualityFlag,
  BarsWindow,
  FeatureSetVersion,
  FeaturesWindow,
  Timeframe,
} from '@strata/marketdata-contracts';

/*
 * Windows as Arrow IPC (stream format): one Float64 column per field (no nulls: NaN stands for NULL), the window's
 * metadata (adjustment, feature-set definition) as schema metadata. Encoding wraps the typed arrays without copying
 * them; decoding returns typed-array views into the IPC bytes (zero copy) when the bytes are 8-byte aligned.
 */

const META = 'strata';
const BAR_FIELDS = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;

function f64(values: Float64Array): Data<Float64> {
  return makeData({ type: new Float64(), length: values.length, data: values });
}

function encode(columns: [string, Data<DataType>][], length: number, meta: unknown): Uint8Array {
  const fields = columns.map(([name, d]) => new Field(name, d.type, false));
  const schema = new Schema(fields, new Map([[META, JSON.stringify(meta)]]));
  const struct = makeData({
    type: new Struct(fields),
    length,
    nullCount: 0,
    children: columns.map(([, d]) => d),
  });
  return tableToIPC(new Table(schema, [new RecordBatch(schema, struct)]), 'stream');
}

/** Bytes the decoders can view without copying: 8-byte aligned (NATS hands out subarrays of its read buffer). */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}

function readTable(bytes: Uint8Array): { table: Table; meta: unknown } {
  const table = tableFromIPC(aligned(bytes));
  const raw = table.schema.metadata.get(META);
  return { table, meta: raw ? (JSON.parse(raw) as unknown) : undefined };
}

/** A column as a Float64Array: a view into the IPC bytes when the table has one batch, else one copy. */
function column(table: Table, name: string): Float64Array {
  const v = table.getChild(name);
  if (!v) return new Float64Array(0);
  return v.toArray() as Float64Array;
}

/** Encodes a bars window: ts/open/high/low/close/volume (and adj_close when present); the adjustment as metadata. */
export function encodeBarsWindow(w: BarsWindow): Uint8Array {
  const b = w.bars;
  const cols: [string, Data<DataType>][] = BAR_FIELDS.map((k) => [k, f64(b[k])]);
  if (b.adjClose) cols.push(['adj_close', f64(b.adjClose)]);
  return encode(cols, b.length, { adjustment: w.adjustment });
}

/** Decodes {@link encodeBarsWindow}. */
export function decodeBarsWindow(bytes: Uint8Array): BarsWindow {
  const { table, meta } = readTable(bytes);
  const bars: BarColumns = {
    length: table.numRows,
    ts: column(table, 'ts'),
    open: column(table, 'open'),
    high: column(table, 'high'),
    low: column(table, 'low'),
    close: column(table, 'close'),
    volume: column(table, 'volume'),
    adjClose: table.getChild('adj_close') ? column(table, 'adj_close') : null,
  };
  return { bars, adjustment: (meta as { adjustment: AppliedAdjustment }).adjustment };
}

/** Encodes a features window: `ts` then one column per feature (in the definition's order); the definition as metadata. */
export function encodeFeaturesWindow(w: FeaturesWindow): Uint8Array {
  const cols: [string, Data<DataType>][] = [['ts', f64(w.ts)]];
  const names = Object.keys(w.columns);
  for (const name of names) cols.push([`f_${name}`, f64(w.columns[name])]);
  return encode(cols, w.ts.length, { definition: w.definition, features: names });
}

/** Decodes {@link encodeFeaturesWindow}. */
export function decodeFeaturesWindow(bytes: Uint8Array): FeaturesWindow {
  const { table, meta } = readTable(bytes);
  const m = meta as { definition: FeatureSetVersion; features: string[] };
  const columns: Record<string, Float64Array> = {};
  for (const name of m.features) columns[name] = column(table, `f_${name}`);
  return { ts: column(table, 'ts'), columns, definition: m.definition };
}

/** Encodes flags of one series: ts (Float64) and kind / eventId / severity / status (Utf8). */
export function encodeQualityFlags(symbol: string, timeframe: Timeframe, flags: readonly BarQualityFlag[]): Uint8Array {
  const n = flags.length;
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = flags[i].ts;
  const str = (pick: (f: BarQualityFlag) => string): Data<DataType> =>
    vectorFromArray(flags.map(pick), new Utf8()).data[0] as Data<DataType>;
  return encode(
    [
      ['ts', f64(ts)],
      ['kind', str((f) => f.kind)],
      ['event_id', str((f) => f.eventId)],
      ['severity', str((f) => f.severity)],
      ['status', str((f) => f.status)],
    ],
    n,
    { symbol, timeframe },
  );
}

/** Decodes {@link encodeQualityFlags}. */
export function decodeQualityFlags(bytes: Uint8Array): BarQualityFlag[] {
  const { table, meta } = readTable(bytes);
  const { symbol, timeframe } = meta as { symbol: string; timeframe: Timeframe };
  const ts = column(table, 'ts');
  const kind = table.getChild('kind')!;
  const eventId = table.getChild('event_id')!;
  const severity = table.getChild('severity')!;
  const status = table.getChild('status')!;
  const out: BarQualityFlag[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++)
    out[i] = {
      symbol,
      timeframe,
      ts: ts[i],
      kind: kind.get(i) as BarQualityFlag['kind'],
      eventId: eventId.get(i) as string,
      severity: severity.get(i) as BarQualityFlag['severity'],
      status: status.get(i) as BarQualityFlag['status'],
    };
  return out;
}

/** Rows of an encoded window (its first batch's length summed over batches). */
export function rowsOf(bytes: Uint8Array): number {
  return tableFromIPC(aligned(bytes)).numRows;
}
