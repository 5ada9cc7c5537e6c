/*
 * bench:features — market-data storage and the feature store, end to end on a file-backed DuckDB.
 *
 * Figures (one JSON line on stdout):
 * - ingest: 1,000,000 generated hourly bars as CSV through the ingest use case (parse + validate + content hash +
 *   calendar gaps + DuckDB commit + ingestion record + event), new series: bars/s (median of ≥ 5 distinct CSVs, best too), with the
 *   parse/commit split; then re-ingesting the identical CSV (compare-before-write, 0 changed) bars/s; and the same
 *   ingest into an in-memory DuckDB (what the disk write costs);
 * - features: the indicators benchmark (bench/indicators.bench.ts, reused as is): all 22 `core` v1 indicators over
 *   1,000,000 synthetic bars in TypeScript kernels, bars/s, and its TA-Lib peer ratio when bench/peers is set up;
 *   plus materialising `core` v1 for 1,000,000 stored bars through the store (read + compute + write 22 columns);
 * - sql_vs_ts: SMA(20)-ratio and 1-bar return with DuckDB SQL window functions vs the TypeScript kernels on the same
 *   1,000,000 closes (both read from / written to plain arrays: the SQL side includes fetching its result), and the
 *   EMA(20)-ratio, which SQL can only do with a recursive CTE (measured on fewer bars and scaled);
 * - refresh: one new daily bar on a 20-year history (5,040 bars, `core` v1 materialised), p50/p99 over 60 runs:
 *   `refresh_ms` = FeatureRefreshService (read history, compute tail, write, lineage, event);
 *   `ingest_and_refresh_ms` = ingest use case for a one-row CSV + the refresh, i.e. end to end through the store;
 *   `event_to_refreshed_ms` = publish bars.ingested → features.evt.set.refreshed.v1 received (bus subscriber path).
 * Targets: ingest ≥ 500,000 bars/s; features ≥ 1,000,000 bars/s; refresh ≤ 50 ms.
 *
 * Env: BENCH_BARS (default 1000000), BENCH_PEER=0 to skip the TA-Lib peer, BENCH_RUNS for the indicators part.
 * Run: npm run bench:features
 */
import { Logger, Module } from '@nestjs/common';
import { BarsIngestedV1, MARKET_DATA_READER, type BarColumns } from '@strata/marketdata-contracts';
import { FeatureSetRefreshedV1 } from '@strata/features-contracts';
import { computeCoreFeatures, emaRatio, randomWalkBars, simpleReturn, smaRatio } from '@strata/shared-indicators';
import { readBarsCsv } from '@strata/marketdata-domain';
import { CORE_V1, FeatureRefreshService } from '@strata/features-feature';
import {
  IngestBarsUseCase,
  InMemoryIngestionLog,
  InProcessMarketDataReader,
  MarketDataService,
} from '@strata/marketdata-feature';
import { createBusMicroservice, InProcessEventBus } from '@strata/platform-bus';
import { appendColumns, DuckDb, readDoubleColumns } from '@strata/platform-duckdb';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runIndicatorsBench } from './indicators.bench';

const BARS = Number(process.env.BENCH_BARS ?? 1_000_000);
const HISTORY = 252 * 20;
const REFRESH_RUNS = 60;
/** Ingest repetitions (each a distinct CSV into a new series); the figures are medians. */
const INGEST_RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));

const round = (x: number, d = 3) => Number(x.toFixed(d));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Hourly bars on a 24x7 calendar as CSV text (what an export from a data vendor looks like). */
function makeCsv(rows: number, seed = 7): string {
  const lines = ['timestamp,open,high,low,close,volume'];
  let price = 100;
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const t0 = Date.UTC(2000, 0, 3);
  for (let i = 0; i < rows; i++) {
    const o = price;
    // Reflected into 20..500 so prices look like real quotes (an unbounded walk reaches 1e100 and measures Number() on exponents).
    let c = o * (1 + (rnd() - 0.5) * 0.02);
    if (c > 500 || c < 20) c = o * (1 - (c / o - 1));
    const h = Math.max(o, c) * (1 + rnd() * 0.005);
    const l = Math.min(o, c) * (1 - rnd() * 0.005);
    price = c;
    lines.push(
      `${new Date(t0 + i * 3_600_000).toISOString().slice(0, 19)}Z,${o.toFixed(4)},${h.toFixed(4)},${l.toFixed(4)},${c.toFixed(4)},${Math.floor(rnd() * 1e6)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function dailyCsv(bars: BarColumns, from: number, to: number, withHeader = true): string {
  const out = withHeader ? ['timestamp,open,high,low,close,volume'] : [];
  for (let i = from; i < to; i++) {
    out.push(
      `${new Date(bars.ts[i]).toISOString().slice(0, 10)},${bars.open[i]},${bars.high[i]},${bars.low[i]},${bars.close[i]},${bars.volume[i]}`,
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-features-'));
  const db = await DuckDb.create(path.join(dir, 'bench.duckdb'));
  const bus = new InProcessEventBus({ service: 'bench' });
  const bars = new DuckDbBarsRepository(db);
  const store = new DuckDbFeatureStore(db);
  const marketData = new MarketDataService(bars, new DuckDbCorporateActionsRepository(db), bus);
  const refresh = new FeatureRefreshService(new InProcessMarketDataReader({ marketData }), store, [CORE_V1], bus);
  const ingest = new IngestBarsUseCase(bus, new InMemoryIngestionLog(), { allowedFileRoots: [] }, bars);
  try {
    // ---- ingest: CSV → validated → DuckDB
    // Distinct input per repetition (a CSV of its own seed, a new series), medians of INGEST_RUNS.
    let csv = '';
    const ingestMs: number[] = [];
    const parseMs: number[] = [];
    let last = '';
    for (let run = 0; run < INGEST_RUNS; run++) {
      csv = makeCsv(BARS, 7 + run);
      const p0 = performance.now();
      readBarsCsv(csv, { timeframe: '1h' });
      parseMs.push(performance.now() - p0);
      const t0 = performance.now();
      const r = await ingest.execute({ symbol: `ING${run}`, timeframe: '1h', source: { kind: 'csv', csv } });
      ingestMs.push(performance.now() - t0);
      if (r.status !== 'completed' || r.accepted !== BARS) throw new Error(`ingest failed: ${r.status} ${r.accepted}`);
      last = `ING${run}`;
    }
    const t1 = performance.now();
    const again = await ingest.execute({ symbol: last, timeframe: '1h', source: { kind: 'csv', csv } });
    const reingestMs = performance.now() - t1;
    if (again.status !== 'duplicate' || again.changes?.unchanged !== BARS)
      throw new Error(`re-ingest was not a no-op: ${JSON.stringify(again.changes)}`);
    const bestIngest = Math.min(...ingestMs);
    const medianIngest = median(ingestMs);
    // The same ingest into an in-memory DuckDB: separates the disk write (compression, WAL) from the rest.
    const memDb = await DuckDb.create(':memory:');
    const memBus = new InProcessEventBus({ service: 'bench-mem' });
    let memMs = Infinity;
    try {
      // Its own bus: these series live in the in-memory database only, so no refresh handler may see their events.
      const memIngest = new IngestBarsUseCase(
        memBus,
        new InMemoryIngestionLog(),
        { allowedFileRoots: [] },
        new DuckDbBarsRepository(memDb),
      );
      const mem: number[] = [];
      for (let run = 0; run < INGEST_RUNS; run++) {
        const memCsv = makeCsv(BARS, 1007 + run);
        const t = performance.now();
        await memIngest.execute({ symbol: `MEM${run}`, timeframe: '1h', source: { kind: 'csv', csv: memCsv } });
        mem.push(performance.now() - t);
      }
      memMs = median(mem);
    } finally {
      await memBus.close();
      await memDb.close();
    }
    const medianParse = median(parseMs);

    // ---- features: TS kernels (the indicators bench) + materialisation through the store
    const indicators = runIndicatorsBench();
    const synth = randomWalkBars(BARS, 42);
    const t0ms = Date.UTC(1990, 0, 1);
    const synthBars: BarColumns = {
      length: BARS,
      ts: Float64Array.from({ length: BARS }, (_, i) => t0ms + i * 60_000),
      ...synth,
      adjClose: null,
    };
    await bars.commit({ ingestionId: 'bench-synth', symbol: 'SYN', timeframe: '1m', bars: synthBars });
    await refresh.registerAll();
    const m0 = performance.now();
    const [mat] = await refresh.refreshSeries('SYN', '1m', { reason: 'backfill', full: true });
    const materialiseMs = performance.now() - m0;
    if (mat.rows !== BARS) throw new Error('materialisation wrote too few rows');

    // ---- SQL windows vs TS kernels on the same closes
    const closes = synth.close;
    const sql = await db.exclusive(async (s) => {
      await s.run('CREATE OR REPLACE TABLE closes (i DOUBLE, close DOUBLE)');
      await appendColumns(
        s.connection,
        { table: 'closes' },
        [
          { kind: 'double', values: Float64Array.from({ length: BARS }, (_, i) => i) },
          { kind: 'double', values: closes },
        ],
        BARS,
      );
      const timeSql = async (q: string) => {
        const ms: number[] = [];
        let out: Float64Array[] = [];
        for (let r = 0; r < 5; r++) {
          const t = performance.now();
          out = readDoubleColumns(await s.connection.run(q));
          ms.push(performance.now() - t);
        }
        return { ms: median(ms), out };
      };
      const sma = await timeSql(
        `SELECT CASE WHEN i >= 19 THEN close / avg(close) OVER (ORDER BY i ROWS BETWEEN 19 PRECEDING AND CURRENT ROW) - 1 END AS v FROM closes ORDER BY i`,
      );
      const ret = await timeSql(`SELECT close / lag(close) OVER (ORDER BY i) - 1 AS v FROM closes ORDER BY i`);
      // EMA(20) seeded with the SMA of the first 20 closes (TA-Lib), as a recursive CTE: one row per step.
      const EMA_N = 2_000;
      const ema = await timeSql(
        `WITH RECURSIVE e(i, v) AS (
           SELECT 19::DOUBLE, (SELECT avg(close) FROM closes WHERE i < 20)
           UNION ALL
           SELECT e.i + 1, c.close * (2.0 / 21) + e.v * (1 - 2.0 / 21) FROM e JOIN closes c ON c.i = e.i + 1 WHERE e.i + 1 < ${EMA_N}
         )
         SELECT c.close / e.v - 1 AS v FROM e JOIN closes c USING (i) ORDER BY i`,
      );
      return { sma, ret, ema, emaN: EMA_N };
    });
    const timeTs = (fn: () => Float64Array) => {
      fn();
      const ms: number[] = [];
      let out: Float64Array = new Float64Array(0);
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        out = fn();
        ms.push(performance.now() - t);
      }
      return { ms: median(ms), out };
    };
    const tsSma = timeTs(() => smaRatio(closes, 20));
    const tsRet = timeTs(() => simpleReturn(closes, 1));
    const tsEma = timeTs(() => emaRatio(closes, 20));
    const maxRel = (a: Float64Array, b: Float64Array, from: number, to: number) => {
      let m = 0;
      for (let i = from; i < to; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1e-300, Math.abs(b[i])));
      return m;
    };
    const sqlVsTs = {
      bars: BARS,
      sma_20_ratio: {
        sql_ms: round(sql.sma.ms, 1),
        ts_ms: round(tsSma.ms, 2),
        sql_over_ts: round(sql.sma.ms / tsSma.ms, 1),
        max_rel_diff: maxRel(sql.sma.out[0], tsSma.out, 19, BARS),
      },
      ret_1: {
        sql_ms: round(sql.ret.ms, 1),
        ts_ms: round(tsRet.ms, 2),
        sql_over_ts: round(sql.ret.ms / tsRet.ms, 1),
        max_rel_diff: maxRel(sql.ret.out[0], tsRet.out, 1, BARS),
      },
      ema_20_ratio: {
        sql_bars: sql.emaN,
        sql_ms: round(sql.ema.ms, 1),
        sql_bars_per_s: Math.round(sql.emaN / (sql.ema.ms / 1000)),
        ts_ms_for_all_bars: round(tsEma.ms, 2),
        ts_bars_per_s: Math.round(BARS / (tsEma.ms / 1000)),
        max_rel_diff: maxRel(sql.ema.out[0], tsEma.out.subarray(19), 0, sql.emaN - 19),
      },
      faster: tsSma.ms < sql.sma.ms && tsRet.ms < sql.ret.ms ? 'ts_kernels' : 'duckdb_sql',
    };

    // ---- incremental refresh: one new daily bar on 20 years of history
    const hist = randomWalkBars(HISTORY + REFRESH_RUNS, 2024);
    // Weekdays from Monday 2001-01-01: a US-equity-like daily calendar (rv_20 annualised with 252).
    const day0 = Date.UTC(2001, 0, 1);
    const weekday = (i: number) => day0 + (Math.floor(i / 5) * 7 + (i % 5)) * 86_400_000;
    const histBars: BarColumns = {
      length: HISTORY + REFRESH_RUNS,
      ts: Float64Array.from({ length: HISTORY + REFRESH_RUNS }, (_, i) => weekday(i)),
      ...hist,
      adjClose: null,
    };
    await ingest.execute({
      symbol: 'HIST',
      timeframe: '1d',
      source: { kind: 'csv', csv: dailyCsv(histBars, 0, HISTORY) },
    });
    await refresh.refreshSeries('HIST', '1d', { reason: 'backfill' });
    const refreshMs: number[] = [];
    const e2eMs: number[] = [];
    const half = REFRESH_RUNS / 2;
    for (let k = 0; k < half; k++) {
      // (a) bar committed, then the refresh alone
      const i = HISTORY + k;
      const one: BarColumns = {
        length: 1,
        ts: histBars.ts.slice(i, i + 1),
        open: hist.open.slice(i, i + 1),
        high: hist.high.slice(i, i + 1),
        low: hist.low.slice(i, i + 1),
        close: hist.close.slice(i, i + 1),
        volume: hist.volume.slice(i, i + 1),
        adjClose: null,
      };
      const c = await bars.commit({ ingestionId: `r${k}`, symbol: 'HIST', timeframe: '1d', bars: one });
      const t = performance.now();
      const [o] = await refresh.refreshSeries('HIST', '1d', { changedFrom: c.changedFrom!, reason: 'bars_ingested' });
      refreshMs.push(performance.now() - t);
      if (o.rows !== 1) throw new Error(`refresh recomputed ${o.rows} rows, expected 1`);
    }
    for (let k = half; k < REFRESH_RUNS; k++) {
      // (b) one-row CSV through the ingest use case, then the refresh
      const i = HISTORY + k;
      const t = performance.now();
      const r = await ingest.execute({
        symbol: 'HIST',
        timeframe: '1d',
        source: { kind: 'csv', csv: dailyCsv(histBars, i, i + 1) },
      });
      const [o] = await refresh.refreshSeries('HIST', '1d', {
        changedFrom: Date.parse(r.from!),
        reason: 'bars_ingested',
      });
      e2eMs.push(performance.now() - t);
      if (o.rows !== 1) throw new Error(`refresh recomputed ${o.rows} rows, expected 1`);
    }
    // (c) through the bus: bars.ingested published → features.evt.set.refreshed.v1 received
    const { BarsIngestedHandler } = await import('@strata/features-feature');
    @Module({
      controllers: [BarsIngestedHandler],
      providers: [
        { provide: FeatureRefreshService, useValue: refresh },
        { provide: MARKET_DATA_READER, useValue: marketData },
      ],
    })
    class RefreshModule {}
    const handler = await createBusMicroservice(RefreshModule, { bus, service: 'features', logger: false });
    let resolveRefreshed: (() => void) | undefined;
    await bus.subscribe(FeatureSetRefreshedV1, (d) => void (d.symbol === 'EVT' && resolveRefreshed?.()), {
      consumer: 'bench__refreshed',
      deliverFrom: 'new',
    });
    const initial = new Promise<void>((r) => (resolveRefreshed = r));
    await ingest.execute({
      symbol: 'EVT',
      timeframe: '1d',
      source: { kind: 'csv', csv: dailyCsv(histBars, 0, HISTORY) },
    });
    await initial; // the handler materialised the history from the bars.ingested event
    const eventMs: number[] = [];
    for (let k = 0; k < 20; k++) {
      const i = HISTORY + k;
      const c = await bars.commit({
        ingestionId: `e${k}`,
        symbol: 'EVT',
        timeframe: '1d',
        bars: {
          length: 1,
          ts: histBars.ts.slice(i, i + 1),
          open: hist.open.slice(i, i + 1),
          high: hist.high.slice(i, i + 1),
          low: hist.low.slice(i, i + 1),
          close: hist.close.slice(i, i + 1),
          volume: hist.volume.slice(i, i + 1),
          adjClose: null,
        },
      });
      const done = new Promise<void>((r) => (resolveRefreshed = r));
      const t = performance.now();
      const iso = new Date(c.changedFrom!).toISOString();
      await bus.publish(BarsIngestedV1, {
        ingestionId: `e${k}`,
        symbol: 'EVT',
        timeframe: '1d',
        from: iso,
        to: iso,
        rowCount: 1,
        contentHash: 'b'.repeat(64),
        changedFrom: iso,
        inserted: 1,
        updated: 0,
      });
      await done;
      eventMs.push(performance.now() - t);
    }
    await handler.close();

    // Exactness spot check of the stored tail against a full computation.
    const stored = await store.read({ set: 'core', version: 1, symbol: 'HIST', timeframe: '1d' });
    const full = computeCoreFeatures(
      { open: hist.open, high: hist.high, low: hist.low, close: hist.close, volume: hist.volume },
      { timeframe: '1d' },
    );
    let exact = stored.ts.length === HISTORY + REFRESH_RUNS;
    for (const f of Object.keys(stored.columns))
      for (let i = 0; i < stored.ts.length; i++)
        exact &&= Object.is(stored.columns[f][i], full[f as keyof typeof full][i]);

    const ingestBps = Math.round(BARS / (medianIngest / 1000));
    const figures = {
      bench: 'features',
      ingest: {
        bars: BARS,
        runs: INGEST_RUNS,
        bars_per_s: ingestBps,
        bars_per_s_best: Math.round(BARS / (bestIngest / 1000)),
        ms_median: round(medianIngest, 1),
        parse_validate_ms_median: round(medianParse, 1),
        commit_and_rest_ms: round(medianIngest - medianParse, 1),
        reingest_identical_bars_per_s: Math.round(BARS / (reingestMs / 1000)),
        in_memory_duckdb_bars_per_s: Math.round(BARS / (memMs / 1000)),
        reingest_status: again.status,
      },
      features: {
        bars: indicators.bars,
        indicators: indicators.features,
        bars_per_s: indicators.bars_per_s,
        bars_per_s_best: indicators.bars_per_s_best,
        bars_per_cpu_s: indicators.bars_per_cpu_s,
        full_ms_median: indicators.full_ms_median,
        peer: indicators.peer,
        materialise_through_store_bars_per_s: Math.round(BARS / (materialiseMs / 1000)),
        materialise_through_store_ms: round(materialiseMs, 1),
      },
      sql_vs_ts: sqlVsTs,
      refresh: {
        history_bars: HISTORY,
        refresh_ms_p50: round(median(refreshMs), 2),
        refresh_ms_p99: round(quantile(refreshMs, 0.99), 2),
        ingest_and_refresh_ms_p50: round(median(e2eMs), 2),
        ingest_and_refresh_ms_p99: round(quantile(e2eMs, 0.99), 2),
        event_to_refreshed_ms_p50: round(median(eventMs), 2),
        event_to_refreshed_ms_p99: round(quantile(eventMs, 0.99), 2),
        kernel_only_ms_p50: indicators.incremental.refresh_one_bar_ms_p50,
        stored_values_exact: exact,
      },
      targets: {
        ingest_bars_per_s: 500_000,
        features_bars_per_s: 1_000_000,
        refresh_ms: 50,
        ingest_met: ingestBps >= 500_000,
        features_met: indicators.bars_per_s >= 1_000_000,
        refresh_met: median(e2eMs) <= 50,
      },
      machine: {
        cpus: os.cpus().length,
        cpu_model: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadavg_1m: round(os.loadavg()[0], 2),
      },
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await bus.close();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:features failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
