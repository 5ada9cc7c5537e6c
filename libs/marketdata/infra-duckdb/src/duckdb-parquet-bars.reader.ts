import type { DuckDb } from '@strata/platform-duckdb';

const TIME_TYPES = /^(TIMESTAMP|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ|DATE)\b/i;

/** Quotes an SQL string literal. */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Quotes an SQL identifier. */
function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * A field as the CSV parser sees it. A value that could shift line numbers or columns (line break, comma, quote) is
 * replaced by a marker the parser rejects as `unparsable`, so the row is reported at its own line, not lost or split.
 */
function field(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[\r\n,"]/.test(s) ? `unreadable:${s.replace(/[\r\n,"]/g, ' ').slice(0, 60)}` : s;
}

/**
 * Reads Parquet files with DuckDB's `read_parquet` and renders them as bars CSV text for the one CSV validator
 * (implements `BarsFileReader` of `@strata/marketdata-feature`). Row i of the file (1-based, in file order: DuckDB
 * preserves insertion order) becomes CSV line i + 1 behind a header line of the file's column names, so reject line
 * numbers are "row index + 1 for a virtual header". Timestamps (TIMESTAMP, TIMESTAMPTZ, DATE, any precision) become
 * ISO-8601 UTC (`YYYY-MM-DDTHH:MM:SS.sssZ`); text timestamps pass through for the parser; every other column is cast
 * to VARCHAR by DuckDB (DOUBLE: shortest round-trip text; DECIMAL: exact; NaN/inf as `nan`/`inf`); NULL → empty field.
 */
export class DuckDbParquetBarsReader {
  constructor(private readonly db: DuckDb) {}

  async parquetToCsv(path: string): Promise<string> {
    const src = `read_parquet(${literal(path)})`;
    const described = await this.db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${src}`);
    if (described.length === 0) throw new Error(`${path}: the Parquet file has no columns`);
    const isTime = described.map((c) => TIME_TYPES.test(c.column_type));
    const select = described
      .map((c, i) =>
        // epoch_ms of a TIMESTAMPTZ is the instant itself; casting it to TIMESTAMP would shift by the session TimeZone.
        !isTime[i]
          ? `CAST(${ident(c.column_name)} AS VARCHAR) AS c${i}`
          : /^DATE\b/i.test(c.column_type)
            ? `epoch_ms(CAST(${ident(c.column_name)} AS TIMESTAMP)) AS c${i}`
            : `epoch_ms(${ident(c.column_name)}) AS c${i}`,
      )
      .join(', ');
    const rows = await this.db.all<Record<string, unknown>>(`SELECT ${select} FROM ${src}`);
    const n = described.length;
    const out: string[] = new Array(rows.length + 1);
    out[0] = described.map((c) => field(c.column_name)).join(',');
    const cells: string[] = new Array(n);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      for (let i = 0; i < n; i++) {
        const v = row[`c${i}`];
        cells[i] = isTime[i] && v !== null && v !== undefined ? new Date(Number(v)).toISOString() : field(v);
      }
      out[r + 1] = cells.join(',');
    }
    return `${out.join('\n')}\n`;
  }
}
