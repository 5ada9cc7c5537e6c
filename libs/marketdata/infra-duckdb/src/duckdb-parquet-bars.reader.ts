import type { BarRows, BarsFileReader, UnreadableRow } from '@strata/marketdata-contracts';
import {
  barColumn,
  barColumnRoles,
  barFieldMessage,
  barTimeProblem,
  createBarRows,
  readBarText,
  TS_ROLE,
} from '@strata/marketdata-domain';
import { readDoubleColumns, type DuckDb } from '@strata/platform-duckdb';

const TIME_TYPES = /^(TIMESTAMP|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ|DATE)\b/i;
/** Column types DuckDB converts to DOUBLE exactly as it would print and re-read them (correctly rounded). */
const NUMBER_TYPES = /^(DOUBLE|BIGINT|INTEGER|SMALLINT|TINYINT|UINTEGER|USMALLINT|UTINYINT)$/i;

/** Quotes an SQL string literal. */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Quotes an SQL identifier. */
function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * The text of a value that is read as text (VARCHAR, DECIMAL, FLOAT, …): NULL is empty; a value with a line break,
 * comma or double quote is replaced by a marker that cannot be read, as the CSV rendering this reader replaced did,
 * so the same rows are rejected with the same messages.
 */
function fieldText(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[\r\n,"]/.test(s) ? `unreadable:${s.replace(/[\r\n,"]/g, ' ').slice(0, 60)}` : s;
}

/** DuckDB's text of a non-finite DOUBLE (what the message quotes). */
function nonFiniteText(x: number): string {
  return x !== x ? 'nan' : x > 0 ? 'inf' : '-inf';
}

type ColumnKind = 'time' | 'number' | 'text';

/**
 * Reads Parquet files with DuckDB's `read_parquet` into {@link BarRows} for `validateBars` (implements
 * {@link BarsFileReader}), column by column, without rendering text: row i of the file (0-based, in file order:
 * DuckDB preserves insertion order) is reported at line i + 2, as if under a header line of the file's column
 * names, which are checked like a CSV header (`BarsCsvFormatError` naming line 1). Timestamps (TIMESTAMP,
 * TIMESTAMPTZ, DATE, any precision) are read as epoch ms (the instant; whole ms); DOUBLE and integer columns as
 * doubles; every other column (text, DECIMAL, FLOAT) as DuckDB's text of the value, read like a CSV field. NULL is
 * `unparsable` (`open is empty`), NaN and ±Infinity `non_finite`.
 */
export class DuckDbParquetBarsReader implements BarsFileReader {
  constructor(private readonly db: DuckDb) {}

  async readParquet(path: string): Promise<BarRows> {
    const src = `read_parquet(${literal(path)})`;
    const described = await this.db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${src}`);
    if (described.length === 0) throw new Error(`${path}: the Parquet file has no columns`);
    const { roles, columns } = barColumnRoles(described.map((c) => c.column_name));
    // A timestamp column of another type, or a price of a time type, is read as text, as a CSV field would be.
    const kinds: ColumnKind[] = described.map((c, i) =>
      roles[i] === TS_ROLE
        ? TIME_TYPES.test(c.column_type)
          ? 'time'
          : 'text'
        : NUMBER_TYPES.test(c.column_type)
          ? 'number'
          : 'text',
    );
    const col = (i: number) => ident(described[i].column_name);

    // Numbers and times as DOUBLE columns (copied chunk by chunk), plus a bit mask of their NULLs per row.
    const native = kinds.flatMap((k, i) => (k === 'text' ? [] : [i]));
    const nativeSql = native.map((i) =>
      // epoch_ms of a TIMESTAMPTZ is the instant itself; casting it to TIMESTAMP would shift by the session TimeZone.
      kinds[i] === 'number'
        ? `CAST(${col(i)} AS DOUBLE)`
        : /^DATE\b/i.test(described[i].column_type)
          ? `epoch_ms(CAST(${col(i)} AS TIMESTAMP))::DOUBLE`
          : `epoch_ms(${col(i)})::DOUBLE`,
    );
    const nulls = native.length
      ? native.map((i, j) => `(CASE WHEN ${col(i)} IS NULL THEN ${2 ** j} ELSE 0 END)`).join(' + ')
      : '0';
    const values = await this.db.exclusive(async (s) =>
      readDoubleColumns(
        await s.connection.run(`SELECT ${[...nativeSql, `(${nulls})::DOUBLE`].join(', ')} FROM ${src}`),
      ),
    );
    const nullMask = values[values.length - 1];
    const n = nullMask.length;
    const nativeValues: (Float64Array | undefined)[] = [];
    native.forEach((i, j) => (nativeValues[i] = values[j]));

    const text = kinds.flatMap((k, i) => (k === 'text' ? [i] : []));
    const textRows = text.length
      ? await this.db.all<Record<string, unknown>>(
          `SELECT ${text.map((i) => `CAST(${col(i)} AS VARCHAR) AS c${i}`).join(', ')} FROM ${src}`,
        )
      : [];

    const rows = createBarRows(n, columns);
    const unreadable: UnreadableRow[] = rows.unreadable;
    const targets = Array.from(roles, (role) => barColumn(rows, role));
    for (let r = 0; r < n; r++) {
      rows.line[r] = r + 2;
      const mask = nullMask[r];
      let bad: { reason: UnreadableRow['reason']; message: string } | null = null;
      for (let i = 0, j = 0; i < roles.length && bad === null; i++) {
        const role = roles[i];
        if (kinds[i] === 'text') {
          const t = fieldText(textRows[r][`c${i}`]);
          bad = readBarText(t, 0, t.length, role, targets[i], r);
          continue;
        }
        const isNull = Math.floor(mask / 2 ** j++) % 2 === 1;
        const x = nativeValues[i]![r];
        if (isNull) bad = { reason: 'unparsable', message: barFieldMessage(role, '') };
        else if (kinds[i] === 'time') {
          const problem = barTimeProblem(x);
          if (problem === null) targets[i][r] = x;
          else bad = { reason: 'unparsable', message: problem };
        } else if (x - x !== 0) bad = { reason: 'non_finite', message: barFieldMessage(role, nonFiniteText(x)) };
        else targets[i][r] = x === 0 ? 0 : x;
      }
      if (bad !== null) unreadable.push({ row: r, reason: bad.reason, message: bad.message });
    }
    rows.length = n;
    return rows;
  }
}
