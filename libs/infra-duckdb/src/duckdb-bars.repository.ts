import type { BarCorrection, SymbolSeries, Timeframe } from '@strata/contracts';
import type { BarColumns } from '@strata/domain-marketdata';
import { appendColumns, readDoubleColumns } from './duckdb-columnar';
import type { DuckDb, DuckDbSession } from './duckdb.database';

/** Epoch-ms bounds used when a range end is open (years 0001 and 9999). */
const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;

/** What one {@link DuckDbBarsRepository.commit} changed. Times are epoch ms UTC. */
export interface DuckDbBarsCommitOutcome {
  /** Bars new to the table. */
  inserted: number;
  /** Stored bars whose values differed and were replaced (each audited in `bar_corrections`). */
  updated: number;
  /** Bars identical to the stored ones (not written). */
  unchanged: number;
  /** Earliest / latest inserted or updated bar; null when nothing changed. */
  changedFrom: number | null;
  changedTo: number | null;
  /** Earliest / latest corrected bar; null when nothing was corrected. */
  correctedFrom: number | null;
  correctedTo: number | null;
}

/** Filters of {@link DuckDbBarsRepository.read}. Times are epoch ms UTC; `from`/`to` inclusive, `after` exclusive. */
export interface DuckDbBarsReadRequest {
  symbol: string;
  timeframe: Timeframe;
  from?: number;
  to?: number;
  after?: number;
  limit?: number;
}

/**
 * DuckDB storage of OHLCV bars (tables `bars` and `bar_corrections` in the main schema), keyed by
 * (symbol, timeframe, ts). `ts` is the bar start as a TIMESTAMP holding UTC; prices and volume are DOUBLE exactly as
 * ingested (never adjusted in storage); `ingestion_id` names the ingestion that last wrote the row.
 *
 * The key is enforced by the write path rather than by an ART index (which makes bulk appends about 8× slower):
 * every commit runs as one transaction on the shared connection's FIFO queue, inserts only bars whose key is absent
 * and updates the others in place, so a key never appears twice.
 *
 * Writes are columnar: a batch goes into DuckDB through data chunks (one memcpy per column per 2,048 rows), straight
 * into `bars` when no stored bar of the series falls in the batch's time range, otherwise into a staging table that
 * is compared with the stored bars in SQL before anything is written.
 */
export class DuckDbBarsRepository {
  private ready: Promise<void> | undefined;

  constructor(private readonly db: DuckDb) {}

  /** Creates the tables when missing (idempotent; called lazily by every method). */
  init(): Promise<void> {
    this.ready ??= this.db
      .exclusive(async (s) => {
        await s.run(`CREATE TABLE IF NOT EXISTS bars (
          symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
          open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL,
          adj_close DOUBLE, ingestion_id VARCHAR NOT NULL)`);
        await s.run(`CREATE TABLE IF NOT EXISTS bar_corrections (
          symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
          old_open DOUBLE, old_high DOUBLE, old_low DOUBLE, old_close DOUBLE, old_volume DOUBLE, old_adj_close DOUBLE,
          new_open DOUBLE, new_high DOUBLE, new_low DOUBLE, new_close DOUBLE, new_volume DOUBLE, new_adj_close DOUBLE,
          old_ingestion_id VARCHAR, ingestion_id VARCHAR NOT NULL, corrected_at TIMESTAMP NOT NULL)`);
        await this.ensureTempTables(s);
      })
      .catch((err) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  private async ensureTempTables(s: DuckDbSession): Promise<void> {
    await s.run(`CREATE TEMP TABLE IF NOT EXISTS bars_stage (ts TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, adj_close DOUBLE)`);
    await s.run(`CREATE TEMP TABLE IF NOT EXISTS bars_diff (ts TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, adj_close DOUBLE,
      is_new BOOLEAN, old_open DOUBLE, old_high DOUBLE, old_low DOUBLE, old_close DOUBLE, old_volume DOUBLE, old_adj_close DOUBLE, old_ingestion_id VARCHAR)`);
  }

  /**
   * Commits a validated batch (strictly increasing `ts`) for one series in one transaction: new bars are inserted,
   * stored bars with other values are replaced and the old and new values recorded in `bar_corrections` (with the
   * ingestion id and time), identical bars are left alone. Committing the same bars again changes nothing and reports
   * them all as `unchanged`. When the batch has no `adj_close` column the stored `adj_close` is kept.
   */
  async commit(req: { ingestionId: string; symbol: string; timeframe: Timeframe; bars: BarColumns }): Promise<DuckDbBarsCommitOutcome> {
    await this.init();
    const { bars, symbol, timeframe, ingestionId } = req;
    const n = bars.length;
    const none: DuckDbBarsCommitOutcome = { inserted: 0, updated: 0, unchanged: 0, changedFrom: null, changedTo: null, correctedFrom: null, correctedTo: null };
    if (n === 0) return none;
    const from = bars.ts[0];
    const to = bars.ts[n - 1];
    const adj = bars.adjClose;
    return this.db.transaction(async (s) => {
      const key = { sym: symbol, tf: timeframe, from, to };
      const [{ stored }] = await s.all<{ stored: bigint }>(
        `SELECT count(*) AS stored FROM bars WHERE symbol = $sym AND timeframe = $tf AND ts BETWEEN epoch_ms($from::BIGINT) AND epoch_ms($to::BIGINT)`,
        key,
      );
      if (stored === 0n) {
        await appendColumns(
          s.connection,
          { table: 'bars' },
          [
            { kind: 'constant', value: symbol },
            { kind: 'constant', value: timeframe },
            { kind: 'timestamp', epochMs: bars.ts },
            { kind: 'double', values: bars.open },
            { kind: 'double', values: bars.high },
            { kind: 'double', values: bars.low },
            { kind: 'double', values: bars.close },
            { kind: 'double', values: bars.volume },
            adj ? { kind: 'double', values: adj, nanAsNull: true } : { kind: 'constant', value: null },
            { kind: 'constant', value: ingestionId },
          ],
          n,
        );
        return { ...none, inserted: n, changedFrom: from, changedTo: to };
      }
      await this.ensureTempTables(s);
      await s.run('DELETE FROM bars_stage');
      await s.run('DELETE FROM bars_diff');
      await appendColumns(
        s.connection,
        { table: 'bars_stage', schema: 'main', catalog: 'temp' },
        [
          { kind: 'timestamp', epochMs: bars.ts },
          { kind: 'double', values: bars.open },
          { kind: 'double', values: bars.high },
          { kind: 'double', values: bars.low },
          { kind: 'double', values: bars.close },
          { kind: 'double', values: bars.volume },
          adj ? { kind: 'double', values: adj, nanAsNull: true } : { kind: 'constant', value: null },
        ],
        n,
      );
      // Exact comparison: both sides come from the same float64 parse, so equal input gives bit-equal values.
      await s.run(
        `INSERT INTO bars_diff
         SELECT s.ts, s.open, s.high, s.low, s.close, s.volume, CASE WHEN $hasAdj THEN s.adj_close ELSE b.adj_close END,
                b.ts IS NULL, b.open, b.high, b.low, b.close, b.volume, b.adj_close, b.ingestion_id
         FROM bars_stage s
         LEFT JOIN (SELECT * FROM bars WHERE symbol = $sym AND timeframe = $tf AND ts BETWEEN epoch_ms($from::BIGINT) AND epoch_ms($to::BIGINT)) b
           ON b.ts = s.ts
         WHERE b.ts IS NULL OR s.open <> b.open OR s.high <> b.high OR s.low <> b.low OR s.close <> b.close OR s.volume <> b.volume
            OR ($hasAdj AND s.adj_close IS DISTINCT FROM b.adj_close)`,
        { ...key, hasAdj: adj !== null },
      );
      const [st] = await s.all<{ ins: bigint; upd: bigint; cf: number | null; ct: number | null; rf: number | null; rt: number | null }>(
        `SELECT count(*) FILTER (WHERE is_new) AS ins, count(*) FILTER (WHERE NOT is_new) AS upd,
                epoch_ms(min(ts))::DOUBLE AS cf, epoch_ms(max(ts))::DOUBLE AS ct,
                epoch_ms(min(ts) FILTER (WHERE NOT is_new))::DOUBLE AS rf, epoch_ms(max(ts) FILTER (WHERE NOT is_new))::DOUBLE AS rt
         FROM bars_diff`,
      );
      const inserted = Number(st.ins);
      const updated = Number(st.upd);
      if (updated > 0) {
        await s.run(
          `INSERT INTO bar_corrections
           SELECT $sym, $tf, ts, old_open, old_high, old_low, old_close, old_volume, old_adj_close,
                  open, high, low, close, volume, adj_close, old_ingestion_id, $ing, epoch_ms($now::BIGINT)
           FROM bars_diff WHERE NOT is_new ORDER BY ts`,
          { sym: symbol, tf: timeframe, ing: ingestionId, now: Date.now() },
        );
        await s.run(
          `UPDATE bars SET open = d.open, high = d.high, low = d.low, close = d.close, volume = d.volume, adj_close = d.adj_close, ingestion_id = $ing
           FROM bars_diff d WHERE bars.symbol = $sym AND bars.timeframe = $tf AND bars.ts = d.ts AND NOT d.is_new`,
          { sym: symbol, tf: timeframe, ing: ingestionId },
        );
      }
      if (inserted > 0) {
        await s.run(
          `INSERT INTO bars SELECT $sym, $tf, ts, open, high, low, close, volume, adj_close, $ing FROM bars_diff WHERE is_new ORDER BY ts`,
          { sym: symbol, tf: timeframe, ing: ingestionId },
        );
      }
      return {
        inserted,
        updated,
        unchanged: n - inserted - updated,
        changedFrom: st.cf,
        changedTo: st.ct,
        correctedFrom: st.rf,
        correctedTo: st.rt,
      };
    });
  }

  /**
   * Bars of one series in ascending time within `[from, to]` and after `after`, at most `limit` (default all), as
   * columns. `adjClose` is null when no returned bar has one (NaN marks a missing value otherwise).
   */
  async read(req: DuckDbBarsReadRequest): Promise<BarColumns> {
    await this.init();
    const lower = Math.max(req.from ?? MIN_MS, req.after !== undefined ? req.after + 1 : MIN_MS);
    const params = { sym: req.symbol, tf: req.timeframe, lo: lower, hi: req.to ?? MAX_MS, lim: req.limit ?? Number.MAX_SAFE_INTEGER };
    const cols = await this.db.exclusive(async (s) => {
      const res = await s.connection.run(
        `SELECT epoch_ms(ts)::DOUBLE AS ts, open, high, low, close, volume, adj_close
         FROM bars WHERE symbol = $sym AND timeframe = $tf AND ts BETWEEN epoch_ms($lo::BIGINT) AND epoch_ms($hi::BIGINT)
         ORDER BY ts LIMIT $lim::BIGINT`,
        params,
      );
      return readDoubleColumns(res);
    });
    const [ts, open, high, low, close, volume, adjClose] = cols;
    let anyAdj = false;
    for (let i = 0; i < adjClose.length && !anyAdj; i++) anyAdj = adjClose[i] === adjClose[i];
    return { length: ts.length, ts, open, high, low, close, volume, adjClose: anyAdj ? adjClose : null };
  }

  /** Number of stored bars (all series). */
  async count(): Promise<number> {
    await this.init();
    const [r] = await this.db.all<{ n: bigint }>('SELECT count(*) AS n FROM bars');
    return Number(r.n);
  }

  /** Stored series ordered by symbol then timeframe, starting after `after` (exclusive), at most `limit`. */
  async listSeries(opts: { after?: { symbol: string; timeframe: string }; limit: number; symbol?: string }): Promise<SymbolSeries[]> {
    await this.init();
    const rows = await this.db.all<{ symbol: string; timeframe: Timeframe; n: bigint; f: number; t: number }>(
      `SELECT symbol, timeframe, count(*) AS n, epoch_ms(min(ts))::DOUBLE AS f, epoch_ms(max(ts))::DOUBLE AS t
       FROM bars WHERE (symbol > $as OR (symbol = $as AND timeframe > $at)) AND ($only = '' OR symbol = $only)
       GROUP BY symbol, timeframe ORDER BY symbol, timeframe LIMIT $lim::BIGINT`,
      { as: opts.after?.symbol ?? '', at: opts.after?.timeframe ?? '', lim: opts.limit, only: opts.symbol ?? '' },
    );
    return rows.map((r) => ({ symbol: r.symbol, timeframe: r.timeframe, bars: Number(r.n), from: new Date(r.f).toISOString(), to: new Date(r.t).toISOString() }));
  }

  /** Audit records of corrected bars of one series, newest correction first, at most `limit`. */
  async listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]> {
    await this.init();
    const rows = await this.db.all<Record<string, number | string | null>>(
      `SELECT epoch_ms(ts)::DOUBLE AS ts, old_open, old_high, old_low, old_close, old_volume, old_adj_close,
              new_open, new_high, new_low, new_close, new_volume, new_adj_close, old_ingestion_id, ingestion_id,
              epoch_ms(corrected_at)::DOUBLE AS corrected_at
       FROM bar_corrections WHERE symbol = $sym AND timeframe = $tf ORDER BY corrected_at DESC, ts LIMIT $lim::BIGINT`,
      { sym: opts.symbol, tf: opts.timeframe, lim: opts.limit },
    );
    const ohlcv = (r: Record<string, number | string | null>, p: string) => ({
      open: r[`${p}_open`] as number,
      high: r[`${p}_high`] as number,
      low: r[`${p}_low`] as number,
      close: r[`${p}_close`] as number,
      volume: r[`${p}_volume`] as number,
      adjClose: (r[`${p}_adj_close`] as number | null) ?? null,
    });
    return rows.map((r) => ({
      symbol: opts.symbol,
      timeframe: opts.timeframe,
      ts: new Date(r.ts as number).toISOString(),
      old: ohlcv(r, 'old'),
      new: ohlcv(r, 'new'),
      oldIngestionId: (r.old_ingestion_id as string | null) ?? null,
      ingestionId: r.ingestion_id as string,
      correctedAt: new Date(r.corrected_at as number).toISOString(),
    }));
  }

  /**
   * For each instant (epoch ms UTC), the raw close of the last bar of the series strictly before it (NaN when there
   * is none): the `prevClose` of a dividend whose ex-date starts at that instant. One ASOF JOIN.
   */
  async lastClosesBefore(symbol: string, timeframe: Timeframe, instants: readonly number[]): Promise<Float64Array> {
    await this.init();
    const out = new Float64Array(instants.length).fill(NaN);
    if (instants.length === 0) return out;
    for (const t of instants) if (!Number.isSafeInteger(t)) throw new RangeError(`lastClosesBefore: instant ${t} is not an integer epoch-ms`);
    const values = instants.map((t, i) => `(${i}, epoch_ms(${t}::BIGINT))`).join(',');
    const rows = await this.db.all<{ i: number; close: number | null }>(
      `SELECT q.i AS i, b.close AS close
       FROM (VALUES ${values}) q(i, t)
       ASOF LEFT JOIN (SELECT ts, close FROM bars WHERE symbol = $sym AND timeframe = $tf) b ON q.t > b.ts`,
      { sym: symbol, tf: timeframe },
    );
    for (const r of rows) if (r.close !== null) out[r.i] = r.close;
    return out;
  }
}
