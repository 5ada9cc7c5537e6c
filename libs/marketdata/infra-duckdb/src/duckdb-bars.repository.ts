import type {
  BarColumns,
  BarCorrection,
  BarsCommitOutcome,
  BarsCommitRequest,
  BarsRepository,
  SeriesWindow,
  SymbolSeries,
  Timeframe,
} from '@strata/marketdata-contracts';
import { appendColumns, readDoubleColumns, type DuckDb, type DuckDbSession } from '@strata/platform-duckdb';

/** Epoch-ms bounds used when a range end is open (years 0001 and 9999). */
const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;

/** Bytes one cached bar takes (ts, open, high, low, close, volume, adj_close as float64). */
const BAR_BYTES = 56;
/** Default budget of the hot-series cache, bytes (see {@link DuckDbBarsRepositoryOptions.hotSeriesBytes}). */
export const DEFAULT_HOT_SERIES_BYTES = 64 * 1024 * 1024;

/** Options of {@link DuckDbBarsRepository}. */
export interface DuckDbBarsRepositoryOptions {
  /**
   * Memory for whole series kept as columns after their first read, bytes (default 64 MiB; 0: every read queries
   * DuckDB). A series is cached when it takes at most a quarter of the budget; least recently read series leave
   * first. A commit of a series drops it before anything is written, so a cached read always equals a query.
   */
  hotSeriesBytes?: number;
}

/** One stored series in the catalogue: bar count and range, kept current by every commit. */
interface CatalogueEntry {
  symbol: string;
  timeframe: Timeframe;
  bars: number;
  from: number;
  to: number;
}

/** A whole series as columns (adj_close NaN where missing), ascending by ts. */
interface HotSeries {
  ts: Float64Array;
  cols: Float64Array[];
  bytes: number;
}

/**
 * What every repository on one database shares (several repositories may be built on one {@link DuckDb}, and all
 * of them must see each other's commits): the catalogue of series and the hot-series cache.
 */
interface SharedSeriesState {
  /** By `symbol\u0000timeframe`; undefined until loaded (once, at init) or after a failed commit (reloaded). */
  catalogue: Map<string, CatalogueEntry> | undefined;
  /** Catalogue keys in (symbol, timeframe) order; undefined when the key set changed. */
  order: string[] | undefined;
  /** Cached series by series id, least recently read first. */
  hot: Map<number, HotSeries>;
  hotBytes: number;
}

const SHARED = new WeakMap<DuckDb, SharedSeriesState>();

function sharedState(db: DuckDb): SharedSeriesState {
  let st = SHARED.get(db);
  if (!st) {
    st = { catalogue: undefined, order: undefined, hot: new Map(), hotBytes: 0 };
    SHARED.set(db, st);
  }
  return st;
}

/** First index whose value is ≥ `x` (`strict`: > `x`) in an ascending array. */
function lowerBound(a: Float64Array, x: number, strict = false): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x || (strict && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const SERIES_SQL = `SELECT epoch_ms(ts)::DOUBLE AS ts, open, high, low, close, volume, adj_close
  FROM bar_values WHERE series_id = $sid ORDER BY ts`;
const WINDOW_SQL = `SELECT epoch_ms(ts)::DOUBLE AS ts, open, high, low, close, volume, adj_close
  FROM bar_values WHERE series_id = $sid AND ts BETWEEN epoch_ms($lo::BIGINT) AND epoch_ms($hi::BIGINT)
  ORDER BY ts LIMIT $lim::BIGINT`;

/**
 * DuckDB storage of OHLCV bars, keyed by (symbol, timeframe, ts). `ts` is the bar start as a TIMESTAMP holding UTC;
 * prices and volume are DOUBLE exactly as ingested (never adjusted in storage).
 *
 * Layout (main schema):
 * - `bar_series (series_id, symbol, timeframe)`: one row per series, created on its first commit, never renumbered;
 * - `bar_writes (write_id, ingestion_id, written_at)`: one row per commit that changed bars;
 * - `bar_values (series_id, ts, open, high, low, close, volume, adj_close, write_id)`: the bars, with the commit that
 *   last wrote each row; only fixed-width columns, so a bulk append stores no per-row string;
 * - view `bars (symbol, timeframe, ts, open, high, low, close, volume, adj_close, ingestion_id)`: the bars as one
 *   table, for ad-hoc SQL;
 * - `bar_corrections`: the audit of every replaced bar.
 * A file written with the earlier layout (a `bars` table) is migrated in one transaction on first use.
 *
 * The key is enforced by the write path rather than by an ART index (far slower bulk appends; the measurements of
 * both choices are in docs/market-data.md, "Storage"):
 * every commit runs as one transaction on the shared connection's FIFO queue, inserts only bars whose key is absent
 * and updates the others in place, so a key never appears twice.
 *
 * Writes are columnar: a batch goes into DuckDB through data chunks (one memcpy per column per 2,048 rows), straight
 * into `bar_values` when no stored bar of the series falls in the batch's time range, otherwise into a staging table
 * that is compared with the stored bars in SQL before anything is written.
 *
 * Reads: the catalogue of series (`listSeries`: count and range per series) is loaded once at init and then kept
 * current by every commit, so listing series never scans `bar_values`. Series read recently are kept whole as columns
 * (hot-series cache, {@link DuckDbBarsRepositoryOptions.hotSeriesBytes}): a window of one is two binary searches and
 * a copy, answered without waiting behind queued writes; a commit drops its series first. Other reads run one
 * prepared statement. Catalogue and cache are shared by every repository on the same {@link DuckDb}.
 */
export class DuckDbBarsRepository implements BarsRepository {
  private ready: Promise<void> | undefined;
  /** Committed `bar_series` ids by `symbol\u0000timeframe` (rows are never deleted or renumbered, so a hit stays valid). */
  private readonly seriesIds = new Map<string, number>();
  private readonly shared: SharedSeriesState;
  private readonly hotSeriesBytes: number;

  constructor(
    private readonly db: DuckDb,
    opts: DuckDbBarsRepositoryOptions = {},
  ) {
    this.shared = sharedState(db);
    this.hotSeriesBytes = opts.hotSeriesBytes ?? DEFAULT_HOT_SERIES_BYTES;
  }

  /** Creates the tables when missing and migrates the earlier single-table layout (idempotent; called lazily by every method). */
  init(): Promise<void> {
    this.ready ??= this.db
      .transaction(async (s) => {
        await s.run('CREATE SEQUENCE IF NOT EXISTS bar_series_seq START 1');
        await s.run('CREATE SEQUENCE IF NOT EXISTS bar_write_seq START 1');
        await s.run(`CREATE TABLE IF NOT EXISTS bar_series (
          series_id INTEGER PRIMARY KEY, symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, UNIQUE (symbol, timeframe))`);
        await s.run(
          `CREATE TABLE IF NOT EXISTS bar_writes (write_id INTEGER PRIMARY KEY, ingestion_id VARCHAR NOT NULL, written_at TIMESTAMP NOT NULL)`,
        );
        await s.run(`CREATE TABLE IF NOT EXISTS bar_values (
          series_id INTEGER NOT NULL, ts TIMESTAMP NOT NULL,
          open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL,
          adj_close DOUBLE, write_id INTEGER NOT NULL)`);
        await s.run(`CREATE TABLE IF NOT EXISTS bar_corrections (
          symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
          old_open DOUBLE, old_high DOUBLE, old_low DOUBLE, old_close DOUBLE, old_volume DOUBLE, old_adj_close DOUBLE,
          new_open DOUBLE, new_high DOUBLE, new_low DOUBLE, new_close DOUBLE, new_volume DOUBLE, new_adj_close DOUBLE,
          old_ingestion_id VARCHAR, ingestion_id VARCHAR NOT NULL, corrected_at TIMESTAMP NOT NULL)`);
        const [{ n }] = await s.all<{ n: bigint }>(
          `SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'bars'`,
        );
        if (n > 0n) await this.migrateSingleTable(s);
        await s.run(`CREATE OR REPLACE VIEW bars AS
          SELECT s.symbol, s.timeframe, v.ts, v.open, v.high, v.low, v.close, v.volume, v.adj_close, w.ingestion_id
          FROM bar_values v JOIN bar_series s ON s.series_id = v.series_id JOIN bar_writes w ON w.write_id = v.write_id`);
      })
      .then(() =>
        this.db.exclusive(async (s) => {
          await this.ensureTempTables(s);
          if (!this.shared.catalogue) await this.loadCatalogue(s);
        }),
      )
      .catch((err) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  /** Moves the rows of the earlier `bars` table (symbol, timeframe and ingestion id on every row) into the current layout. */
  private async migrateSingleTable(s: DuckDbSession): Promise<void> {
    await s.run(
      `INSERT INTO bar_series SELECT nextval('bar_series_seq'), symbol, timeframe FROM (SELECT DISTINCT symbol, timeframe FROM bars ORDER BY ALL)`,
    );
    await s.run(
      `INSERT INTO bar_writes SELECT nextval('bar_write_seq'), ingestion_id, epoch_ms($now::BIGINT) FROM (SELECT DISTINCT ingestion_id FROM bars ORDER BY ALL)`,
      { now: Date.now() },
    );
    await s.run(`INSERT INTO bar_values
      SELECT s.series_id, b.ts, b.open, b.high, b.low, b.close, b.volume, b.adj_close, w.write_id
      FROM bars b JOIN bar_series s ON s.symbol = b.symbol AND s.timeframe = b.timeframe JOIN bar_writes w ON w.ingestion_id = b.ingestion_id
      ORDER BY s.series_id, b.ts`);
    await s.run('DROP TABLE bars');
  }

  /** Reads the catalogue from the tables (at init, or after a failed commit left it unknown). */
  private async loadCatalogue(s: DuckDbSession): Promise<Map<string, CatalogueEntry>> {
    const rows = await s.all<{ id: number; symbol: string; timeframe: Timeframe; n: bigint; f: number; t: number }>(
      `SELECT s.series_id AS id, s.symbol, s.timeframe, count(*) AS n, epoch_ms(min(v.ts))::DOUBLE AS f,
              epoch_ms(max(v.ts))::DOUBLE AS t
       FROM bar_series s JOIN bar_values v ON v.series_id = s.series_id GROUP BY ALL`,
    );
    const catalogue = new Map<string, CatalogueEntry>();
    for (const r of rows)
      catalogue.set(`${r.symbol}\u0000${r.timeframe}`, {
        symbol: r.symbol,
        timeframe: r.timeframe,
        bars: Number(r.n),
        from: r.f,
        to: r.t,
      });
    this.shared.catalogue = catalogue;
    this.shared.order = undefined;
    return catalogue;
  }

  /** Drops a series from the hot cache (before a commit writes it). */
  private dropHot(sid: number): void {
    const hot = this.shared.hot.get(sid);
    if (!hot) return;
    this.shared.hot.delete(sid);
    this.shared.hotBytes -= hot.bytes;
  }

  /** The cached series `sid`, loading it when the catalogue says it fits the budget; undefined otherwise. */
  private async hotSeries(s: DuckDbSession, sid: number, key: string): Promise<HotSeries | undefined> {
    const st = this.shared;
    const hit = st.hot.get(sid);
    if (hit) return hit;
    const bars = st.catalogue?.get(key)?.bars;
    if (bars === undefined || bars === 0 || bars * BAR_BYTES * 4 > this.hotSeriesBytes) return undefined;
    const stmt = await s.prepare(SERIES_SQL);
    stmt.clearBindings();
    stmt.bind({ sid });
    const [ts, ...cols] = readDoubleColumns(await stmt.run());
    const series: HotSeries = { ts, cols, bytes: ts.length * BAR_BYTES };
    st.hot.set(sid, series);
    st.hotBytes += series.bytes;
    for (const [id, old] of st.hot) {
      if (st.hotBytes <= this.hotSeriesBytes) break;
      st.hot.delete(id);
      st.hotBytes -= old.bytes;
    }
    return series;
  }

  /** Marks `sid` most recently read. */
  private touch(sid: number, hot: HotSeries): void {
    this.shared.hot.delete(sid);
    this.shared.hot.set(sid, hot);
  }

  private async ensureTempTables(s: DuckDbSession): Promise<void> {
    await s.run(
      `CREATE TEMP TABLE IF NOT EXISTS bars_stage (ts TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, adj_close DOUBLE)`,
    );
    await s.run(`CREATE TEMP TABLE IF NOT EXISTS bars_diff (ts TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, adj_close DOUBLE,
      is_new BOOLEAN, old_open DOUBLE, old_high DOUBLE, old_low DOUBLE, old_close DOUBLE, old_volume DOUBLE, old_adj_close DOUBLE, old_write_id INTEGER)`);
  }

  /** The committed id of a series, or undefined when it has no row in `bar_series` (reads of it then find nothing). */
  private async seriesId(s: DuckDbSession, symbol: string, timeframe: Timeframe | string): Promise<number | undefined> {
    const key = `${symbol}\u0000${timeframe}`;
    const hit = this.seriesIds.get(key);
    if (hit !== undefined) return hit;
    const rows = await s.all<{ id: number }>(
      'SELECT series_id AS id FROM bar_series WHERE symbol = $sym AND timeframe = $tf',
      { sym: symbol, tf: timeframe },
    );
    if (rows.length === 0) return undefined;
    // Found before any insert of this call, so committed (a series inserted by a transaction is cached after its COMMIT).
    this.seriesIds.set(key, rows[0].id);
    return rows[0].id;
  }

  /**
   * Commits a validated batch (strictly increasing `ts`) for one series in one transaction: new bars are inserted,
   * stored bars with other values are replaced and the old and new values recorded in `bar_corrections` (with the
   * ingestion id and time), identical bars are left alone. Committing the same bars again changes nothing and reports
   * them all as `unchanged`. When the batch has no `adj_close` column the stored `adj_close` is kept.
   */
  async commit(req: BarsCommitRequest): Promise<BarsCommitOutcome> {
    await this.init();
    const { symbol, timeframe } = req;
    if (req.bars.length === 0)
      return {
        inserted: 0,
        updated: 0,
        unchanged: 0,
        changedFrom: null,
        changedTo: null,
        correctedFrom: null,
        correctedTo: null,
      };
    let committedSeries: number | undefined;
    const key = `${symbol}\u0000${timeframe}`;
    const outcome = await this.db
      .transaction(async (s) => {
        const out = await this.commitIn(s, req, (sid) => (committedSeries = sid));
        this.recordInCatalogue(key, symbol, timeframe, out);
        return out;
      })
      .catch((err: unknown) => {
        // The catalogue may now differ from the tables: read it again on next use.
        this.shared.catalogue = undefined;
        this.shared.order = undefined;
        throw err;
      });
    if (committedSeries !== undefined) this.seriesIds.set(key, committedSeries);
    return outcome;
  }

  /** Applies a commit's outcome to the catalogue (inside its transaction, so no read sees the tables ahead of it). */
  private recordInCatalogue(key: string, symbol: string, timeframe: Timeframe, out: BarsCommitOutcome): void {
    const catalogue = this.shared.catalogue;
    if (!catalogue || out.inserted + out.updated === 0) return;
    const e = catalogue.get(key);
    if (!e) {
      catalogue.set(key, { symbol, timeframe, bars: out.inserted, from: out.changedFrom!, to: out.changedTo! });
      this.shared.order = undefined;
      return;
    }
    e.bars += out.inserted;
    e.from = Math.min(e.from, out.changedFrom!);
    e.to = Math.max(e.to, out.changedTo!);
  }

  /** The body of {@link commit}, inside its transaction; `onSeries` learns the series id. */
  private async commitIn(
    s: DuckDbSession,
    req: BarsCommitRequest,
    onSeries: (sid: number) => void,
  ): Promise<BarsCommitOutcome> {
    const { bars, symbol, timeframe, ingestionId } = req;
    const n = bars.length;
    const none: BarsCommitOutcome = {
      inserted: 0,
      updated: 0,
      unchanged: 0,
      changedFrom: null,
      changedTo: null,
      correctedFrom: null,
      correctedTo: null,
    };
    const from = bars.ts[0];
    const to = bars.ts[n - 1];
    const adj = bars.adjClose;
    {
      let sid = await this.seriesId(s, symbol, timeframe);
      if (sid !== undefined) this.dropHot(sid);
      if (sid === undefined) {
        // A new series: its row is part of this transaction and disappears with it on rollback.
        const [row] = await s.all<{ id: number }>(
          `INSERT INTO bar_series VALUES (nextval('bar_series_seq'), $sym, $tf) RETURNING series_id AS id`,
          {
            sym: symbol,
            tf: timeframe,
          },
        );
        sid = row.id;
      }
      onSeries(sid);
      const newWrite = async (): Promise<number> => {
        const [w] = await s.all<{ id: number }>(
          `INSERT INTO bar_writes VALUES (nextval('bar_write_seq'), $ing, epoch_ms($now::BIGINT)) RETURNING write_id AS id`,
          {
            ing: ingestionId,
            now: Date.now(),
          },
        );
        return w.id;
      };
      const key = { sid, from, to };
      const [{ stored }] = await s.all<{ stored: bigint }>(
        `SELECT count(*) AS stored FROM bar_values WHERE series_id = $sid AND ts BETWEEN epoch_ms($from::BIGINT) AND epoch_ms($to::BIGINT)`,
        key,
      );
      if (stored === 0n) {
        const writeId = await newWrite();
        await appendColumns(
          s.connection,
          { table: 'bar_values' },
          [
            { kind: 'constantInteger', value: sid },
            { kind: 'timestamp', epochMs: bars.ts },
            { kind: 'double', values: bars.open },
            { kind: 'double', values: bars.high },
            { kind: 'double', values: bars.low },
            { kind: 'double', values: bars.close },
            { kind: 'double', values: bars.volume },
            adj ? { kind: 'double', values: adj, nanAsNull: true } : { kind: 'constant', value: null },
            { kind: 'constantInteger', value: writeId },
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
                b.ts IS NULL, b.open, b.high, b.low, b.close, b.volume, b.adj_close, b.write_id
         FROM bars_stage s
         LEFT JOIN (SELECT * FROM bar_values WHERE series_id = $sid AND ts BETWEEN epoch_ms($from::BIGINT) AND epoch_ms($to::BIGINT)) b
           ON b.ts = s.ts
         WHERE b.ts IS NULL OR s.open <> b.open OR s.high <> b.high OR s.low <> b.low OR s.close <> b.close OR s.volume <> b.volume
            OR ($hasAdj AND s.adj_close IS DISTINCT FROM b.adj_close)`,
        { ...key, hasAdj: adj !== null },
      );
      const [st] = await s.all<{
        ins: bigint;
        upd: bigint;
        cf: number | null;
        ct: number | null;
        rf: number | null;
        rt: number | null;
      }>(
        `SELECT count(*) FILTER (WHERE is_new) AS ins, count(*) FILTER (WHERE NOT is_new) AS upd,
                epoch_ms(min(ts))::DOUBLE AS cf, epoch_ms(max(ts))::DOUBLE AS ct,
                epoch_ms(min(ts) FILTER (WHERE NOT is_new))::DOUBLE AS rf, epoch_ms(max(ts) FILTER (WHERE NOT is_new))::DOUBLE AS rt
         FROM bars_diff`,
      );
      const inserted = Number(st.ins);
      const updated = Number(st.upd);
      if (inserted + updated > 0) {
        const writeId = await newWrite();
        if (updated > 0) {
          await s.run(
            `INSERT INTO bar_corrections
             SELECT $sym, $tf, d.ts, d.old_open, d.old_high, d.old_low, d.old_close, d.old_volume, d.old_adj_close,
                    d.open, d.high, d.low, d.close, d.volume, d.adj_close, w.ingestion_id, $ing, epoch_ms($now::BIGINT)
             FROM bars_diff d LEFT JOIN bar_writes w ON w.write_id = d.old_write_id WHERE NOT d.is_new ORDER BY d.ts`,
            { sym: symbol, tf: timeframe, ing: ingestionId, now: Date.now() },
          );
          await s.run(
            `UPDATE bar_values SET open = d.open, high = d.high, low = d.low, close = d.close, volume = d.volume, adj_close = d.adj_close, write_id = $wid
             FROM bars_diff d WHERE bar_values.series_id = $sid AND bar_values.ts = d.ts AND NOT d.is_new`,
            { sid, wid: writeId },
          );
        }
        if (inserted > 0) {
          await s.run(
            `INSERT INTO bar_values SELECT $sid, ts, open, high, low, close, volume, adj_close, $wid FROM bars_diff WHERE is_new ORDER BY ts`,
            { sid, wid: writeId },
          );
        }
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
    }
  }

  /**
   * Bars of one series in ascending time within `[from, to]` and after `after`, at most `limit` (default all), as
   * columns. `adjClose` is null when no returned bar has one (NaN marks a missing value otherwise).
   */
  async read(req: SeriesWindow): Promise<BarColumns> {
    await this.init();
    const lower = Math.max(req.from ?? MIN_MS, req.after !== undefined ? req.after + 1 : MIN_MS);
    const upper = req.to ?? MAX_MS;
    const limit = req.limit ?? Number.MAX_SAFE_INTEGER;
    const key = `${req.symbol}\u0000${req.timeframe}`;
    // Cached series: answered at once (a commit of it drops it before writing, so this is the committed state).
    const known = this.seriesIds.get(key);
    const cached = known !== undefined ? this.shared.hot.get(known) : undefined;
    if (cached) {
      this.touch(known!, cached);
      return windowOf(cached, lower, upper, limit);
    }
    const cols = await this.db.exclusive(async (s) => {
      const sid = await this.seriesId(s, req.symbol, req.timeframe);
      if (sid === undefined) return [0, 1, 2, 3, 4, 5, 6].map(() => new Float64Array(0));
      const hot = await this.hotSeries(s, sid, key);
      if (hot) return hot;
      const stmt = await s.prepare(WINDOW_SQL);
      stmt.clearBindings();
      stmt.bind({ sid, lo: lower, hi: upper, lim: limit });
      return readDoubleColumns(await stmt.run());
    });
    if (!Array.isArray(cols)) return windowOf(cols, lower, upper, limit);
    return barColumns(cols[0], cols.slice(1));
  }

  /** Number of stored bars (all series). */
  async count(): Promise<number> {
    await this.init();
    const [r] = await this.db.all<{ n: bigint }>('SELECT count(*) AS n FROM bar_values');
    return Number(r.n);
  }

  /**
   * Stored series ordered by symbol then timeframe, starting after `after` (exclusive), at most `limit`: from the
   * catalogue (kept current by every commit), not a scan of the bars.
   */
  async listSeries(opts: {
    after?: { symbol: string; timeframe: string };
    limit: number;
    symbol?: string;
  }): Promise<SymbolSeries[]> {
    await this.init();
    const st = this.shared;
    const catalogue = st.catalogue ?? (await this.db.exclusive((s) => this.loadCatalogue(s)));
    const order = (st.order ??= [...catalogue.keys()].sort((a, b) => {
      const x = catalogue.get(a)!;
      const y = catalogue.get(b)!;
      return x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : x.timeframe < y.timeframe ? -1 : 1;
    }));
    const out: SymbolSeries[] = [];
    const as = opts.after?.symbol ?? '';
    const at = opts.after?.timeframe ?? '';
    for (const k of order) {
      if (out.length >= opts.limit) break;
      const e = catalogue.get(k)!;
      if (e.bars === 0 || (opts.symbol && e.symbol !== opts.symbol)) continue;
      if (!(e.symbol > as || (e.symbol === as && e.timeframe > at))) continue;
      out.push({
        symbol: e.symbol,
        timeframe: e.timeframe,
        bars: e.bars,
        from: new Date(e.from).toISOString(),
        to: new Date(e.to).toISOString(),
      });
    }
    return out;
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
    for (const t of instants)
      if (!Number.isSafeInteger(t)) throw new RangeError(`lastClosesBefore: instant ${t} is not an integer epoch-ms`);
    const values = instants.map((t, i) => `(${i}, epoch_ms(${t}::BIGINT))`).join(',');
    const rows = await this.db.exclusive(async (s) => {
      const sid = await this.seriesId(s, symbol, timeframe);
      if (sid === undefined) return [];
      const hot = await this.hotSeries(s, sid, `${symbol}\u0000${timeframe}`);
      if (hot) {
        // The last bar strictly before each instant, by binary search in the cached series.
        const close = hot.cols[3];
        return instants.map((t, i) => {
          const j = lowerBound(hot.ts, t) - 1;
          return { i, close: j >= 0 ? close[j] : null };
        });
      }
      return s.all<{ i: number; close: number | null }>(
        `SELECT q.i AS i, b.close AS close
         FROM (VALUES ${values}) q(i, t)
         ASOF LEFT JOIN (SELECT ts, close FROM bar_values WHERE series_id = $sid) b ON q.t > b.ts`,
        { sid },
      );
    });
    for (const r of rows) if (r.close !== null) out[r.i] = r.close;
    return out;
  }
}

/** Bars as {@link BarColumns}; `adjClose` null when no bar has one. */
function barColumns(ts: Float64Array, cols: Float64Array[]): BarColumns {
  const [open, high, low, close, volume, adjClose] = cols;
  let anyAdj = false;
  for (let i = 0; i < adjClose.length && !anyAdj; i++) anyAdj = adjClose[i] === adjClose[i];
  return { length: ts.length, ts, open, high, low, close, volume, adjClose: anyAdj ? adjClose : null };
}

/** The bars of a cached series with `lower ≤ ts ≤ upper`, at most `limit`, as copies (callers may write them). */
function windowOf(hot: HotSeries, lower: number, upper: number, limit: number): BarColumns {
  const start = lowerBound(hot.ts, lower);
  const end = Math.min(lowerBound(hot.ts, upper, true), start + Math.max(0, limit));
  const b = Math.max(start, end);
  return barColumns(
    hot.ts.slice(start, b),
    hot.cols.map((c) => c.slice(start, b)),
  );
}
