import duckdb from '@duckdb/node-bindings';
import {
  DOUBLE,
  DuckDBDataChunk,
  DuckDBTypeId,
  INTEGER,
  TIMESTAMP,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBType,
} from '@duckdb/node-api';

/**
 * One column written by {@link appendColumns}:
 * - `double`: a Float64Array slice; NaN is written as NULL when `nanAsNull` is set, otherwise as NaN.
 * - `timestamp`: epoch milliseconds UTC (Float64Array, integral values), stored as a DuckDB TIMESTAMP (µs).
 * - `constant`: the same VARCHAR (or NULL) on every row, written as a DuckDB constant vector (no per-row string).
 * - `constantInteger`: the same INTEGER (int32) on every row, written as a DuckDB constant vector.
 */
export type ColumnSource =
  | { kind: 'double'; values: Float64Array; nanAsNull?: boolean }
  | { kind: 'timestamp'; epochMs: Float64Array }
  | { kind: 'constant'; value: string | null }
  | { kind: 'constantInteger'; value: number };

const TWO_32 = 4294967296;

function typeOf(c: ColumnSource): DuckDBType {
  return c.kind === 'double'
    ? DOUBLE
    : c.kind === 'timestamp'
      ? TIMESTAMP
      : c.kind === 'constantInteger'
        ? INTEGER
        : VARCHAR;
}

/**
 * Appends `length` rows given as columns to `table` through a DuckDB appender fed with data chunks of
 * `vector_size()` rows: typed-array slices are copied into the chunk vectors with one memcpy per column and chunk, so
 * no per-row JS object or per-value call is made. Columns must be in the table's column order. Runs on `conn` as is
 * (inside the caller's transaction when one is open). Returns the number of rows appended.
 */
export async function appendColumns(
  conn: DuckDBConnection,
  target: { table: string; schema?: string; catalog?: string },
  columns: readonly ColumnSource[],
  length: number,
): Promise<number> {
  if (length === 0) return 0;
  for (const c of columns) {
    const n = c.kind === 'double' ? c.values.length : c.kind === 'timestamp' ? c.epochMs.length : Infinity;
    if (n < length) throw new RangeError(`appendColumns: a column has ${n} values, expected at least ${length}`);
  }
  const V = duckdb.vector_size();
  const appender = await conn.createAppender(target.table, target.schema ?? null, target.catalog ?? null);
  const tsBuf = new ArrayBuffer(V * 8);
  const tsLo = new Uint32Array(tsBuf);
  const tsHi = new Int32Array(tsBuf);
  const validity = new Uint8Array(V / 8);
  for (const c of columns) {
    if (
      c.kind === 'constantInteger' &&
      !(Number.isInteger(c.value) && c.value >= -2147483648 && c.value <= 2147483647)
    ) {
      throw new RangeError(`appendColumns: ${c.value} is not an int32`);
    }
  }
  const constants = columns.map((c) =>
    c.kind === 'constant' && c.value !== null
      ? duckdb.create_varchar(c.value)
      : c.kind === 'constantInteger'
        ? duckdb.create_int32(c.value)
        : null,
  );
  const chunk = DuckDBDataChunk.create(columns.map(typeOf), V);
  try {
    for (let start = 0; start < length; start += V) {
      const m = Math.min(V, length - start);
      duckdb.data_chunk_reset(chunk.chunk);
      for (let k = 0; k < columns.length; k++) {
        const c = columns[k];
        const vec = duckdb.data_chunk_get_vector(chunk.chunk, k);
        if (c.kind === 'constant' || c.kind === 'constantInteger') {
          const v = constants[k];
          if (v) duckdb.vector_reference_value(vec, v);
          else duckdb.vector_reference_value(vec, duckdb.create_null_value());
        } else if (c.kind === 'timestamp') {
          const src = c.epochMs;
          for (let i = 0; i < m; i++) {
            // int64 microseconds written as two 32-bit halves: exact for |µs| < 2^53, no BigInt per row.
            const us = src[start + i] * 1000;
            const hi = Math.floor(us / TWO_32);
            tsLo[2 * i] = us - hi * TWO_32;
            tsHi[2 * i + 1] = hi;
          }
          duckdb.copy_data_to_vector(vec, 0, tsBuf, 0, m * 8);
        } else {
          const src = c.values;
          duckdb.copy_data_to_vector(vec, 0, src.buffer as ArrayBuffer, src.byteOffset + start * 8, m * 8);
          if (c.nanAsNull) {
            let anyNull = false;
            validity.fill(0xff);
            for (let i = 0; i < m; i++) {
              const x = src[start + i];
              if (x !== x) {
                validity[i >> 3] &= ~(1 << (i & 7));
                anyNull = true;
              }
            }
            if (anyNull) {
              duckdb.vector_ensure_validity_writable(vec);
              duckdb.copy_data_to_vector_validity(vec, 0, validity.buffer, 0, validity.byteLength);
            }
          }
        }
      }
      duckdb.data_chunk_set_size(chunk.chunk, m);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return length;
}

/**
 * Reads the DOUBLE columns of a materialised result into Float64Arrays (one per column, in result order), copying
 * each chunk's vector memory at once. NULL reads as NaN. Every column of the result must be DOUBLE (cast in SQL, e.g.
 * `epoch_ms(ts)::DOUBLE`).
 */
export function readDoubleColumns(result: DuckDBMaterializedResult): Float64Array[] {
  const n = result.rowCount;
  const cols = result.columnCount;
  const out: Float64Array[] = [];
  for (let k = 0; k < cols; k++) {
    if (result.columnTypeId(k) !== DuckDBTypeId.DOUBLE)
      throw new TypeError(`readDoubleColumns: column ${result.columnName(k)} is not DOUBLE`);
    out.push(new Float64Array(n));
  }
  let offset = 0;
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    const m = chunk.rowCount;
    if (m === 0) continue;
    for (let k = 0; k < cols; k++) {
      const vec = duckdb.data_chunk_get_vector(chunk.chunk, k);
      const data = duckdb.vector_get_data(vec, m * 8);
      // The view may be unaligned for Float64Array; copy bytes into the aligned target instead.
      new Uint8Array(out[k].buffer, offset * 8, m * 8).set(data);
      const valid = duckdb.vector_get_validity(vec, Math.ceil(m / 64) * 8) as Uint8Array | null;
      if (valid && valid.byteLength > 0) {
        const target = out[k];
        for (let i = 0; i < m; i++) if (((valid[i >> 3] >> (i & 7)) & 1) === 0) target[offset + i] = NaN;
      }
    }
    offset += m;
  }
  return out;
}
