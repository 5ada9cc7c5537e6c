/**
 * `npm run bench:reads`: the MarketDataReader read path, in process and from ANOTHER OS process over NATS, in one run.
 *
 * Windows: a 1M-bar window (synthetic 1-minute random walk, committed to DuckDB) and a 20-year daily window (SPY from
 * data/sample, 2001–2020). The marketdata side (DuckDB, `InProcessMarketDataReader`, `MarketDataReadResponder` with a
 * JetStream Object Store snapshots bucket) runs in this process; a forked child process reads through
 * `NatsMarketDataReader`:
 * - in process: `InProcessMarketDataReader.getBars` (what the all-in-one and the marketdata service read through);
 * - cold: nothing cached anywhere: the series version is bumped and the snapshot deleted from the store before each
 *   run, and the child reads with a fresh cache directory (responder reads DuckDB, encodes Arrow IPC, hashes it; the
 *   reader fetches it in parallel ranges from the responder, verifies its hash, decodes; the store write follows);
 * - cold reader: the responder's window cache and the snapshot exist, the reader's cache is fresh;
 * - warm: the snapshot is in the reader's cache (one round trip plus a local lookup);
 * - warm disk: in the reader's disk cache only (a new process: read + hash check + decode).
 * Medians of RUNS (≥ 5) runs. Targets: cold remote 1M bars ≤ 3× in process; warm ≤ 1.2× in process.
 * NATS from NATS_URL; when unset, deploy/local/infra.sh up is run (and the bench fails clearly when it cannot start).
 * Prints ONE JSON line.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BarColumns, BarsRequest } from '@strata/marketdata-contracts';
import { readBarsCsv } from '@strata/marketdata-domain';
import { InProcessMarketDataReader, MarketDataService } from '@strata/marketdata-feature';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { MarketDataReadResponder, NatsMarketDataReader, SeriesChangeTracker } from '@strata/marketdata-infra-nats';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { InProcessEventBus } from '@strata/platform-bus';
import { DuckDb } from '@strata/platform-duckdb';

const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 7));
const ONE_MILLION = 1_000_000;
const MINUTE = 60_000;

type Op = 'cold' | 'warm' | 'warmDisk';
interface ChildRequest {
  op: Op;
  req: BarsRequest;
  cacheDir?: string;
}
interface ChildReply {
  ms: number;
  rows: number;
  checksum: number;
  source: string | undefined;
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Sum of closes: the remote read must return exactly the in-process window. */
function checksum(b: BarColumns): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += b.close[i] + b.ts[i] * 1e-12;
  return s;
}

/** A synthetic 1-minute random walk of `n` bars (typed arrays, no per-row objects). */
function randomWalk(n: number, start: number): BarColumns {
  const ts = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let seed = 42;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  let p = 100;
  for (let i = 0; i < n; i++) {
    ts[i] = start + i * MINUTE;
    open[i] = p;
    p = Math.max(1, p * (1 + rnd() * 0.002));
    close[i] = p;
    high[i] = Math.max(open[i], p) * (1 + Math.abs(rnd()) * 0.001);
    low[i] = Math.min(open[i], p) * (1 - Math.abs(rnd()) * 0.001);
    volume[i] = 1000 + Math.floor((rnd() + 0.5) * 5000);
  }
  return { length: n, ts, open, high, low, close, volume, adjClose: null };
}

function natsUrl(): string {
  if (process.env.NATS_URL) return process.env.NATS_URL;
  try {
    const out = execFileSync(resolve(__dirname, '../deploy/local/infra.sh'), ['up'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const m = /NATS_URL=["']?([^"'\s]+)/.exec(out);
    if (!m) throw new Error(`deploy/local/infra.sh up printed no NATS_URL: ${out}`);
    return m[1];
  } catch (e) {
    throw new Error(
      `bench:reads needs NATS: set NATS_URL or let deploy/local/infra.sh up start it (${(e as Error).message})`,
    );
  }
}

// ---------------------------------------------------------------- the remote reader (child process)

async function remote(): Promise<void> {
  const nc = await connect({ servers: process.env.BENCH_NATS_URL! });
  const snapshots = await ObjectStoreArtifactStore.open(nc, { bucket: process.env.BENCH_BUCKET! });
  const prefix = process.env.BENCH_PREFIX!;
  const open = (cacheDir: string) =>
    new NatsMarketDataReader({
      connection: nc,
      snapshots,
      cacheDir,
      subjectPrefix: prefix,
      timeoutMs: 120_000,
      fetchConcurrency: process.env.BENCH_FETCH_CONCURRENCY ? Number(process.env.BENCH_FETCH_CONCURRENCY) : undefined,
    });
  let warm: NatsMarketDataReader | undefined;
  process.on('message', (m: ChildRequest | 'exit') => {
    if (m === 'exit') {
      void nc.close().then(() => process.exit(0));
      return;
    }
    void (async () => {
      let reader: NatsMarketDataReader;
      if (m.op === 'warm') reader = warm ??= open(m.cacheDir!);
      else reader = open(m.cacheDir!); // cold: a fresh directory; warmDisk: an existing one, nothing in memory
      const t0 = performance.now();
      const { bars } = await reader.getBars(m.req);
      const ms = performance.now() - t0;
      await reader.cache.flush(); // the disk cache file (written in the background), outside the timing
      const reply: ChildReply = { ms, rows: bars.length, checksum: checksum(bars), source: reader.lastSource };
      process.send!(reply);
    })().catch((e: Error) => process.send!({ ms: NaN, rows: 0, checksum: NaN, source: undefined, error: e.message }));
  });
  process.send!('ready');
}

// ---------------------------------------------------------------- the marketdata side (this process)

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const url = natsUrl();
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-bench-reads-'));
  const db = await DuckDb.create(join(dataDir, 'strata.duckdb'));
  const bus = new InProcessEventBus({ service: 'bench' });
  const tracker = new SeriesChangeTracker();
  const bars = tracker.trackBars(new DuckDbBarsRepository(db));
  const actions = tracker.trackCorporateActions(new DuckDbCorporateActionsRepository(db));
  const reader = new InProcessMarketDataReader({ marketData: new MarketDataService(bars, actions, bus) });

  const t0 = performance.now();
  await bars.commit({
    ingestionId: 'bench-1m',
    symbol: 'WALK',
    timeframe: '1m',
    bars: randomWalk(ONE_MILLION, Date.parse('2024-01-01T00:00:00Z')),
  });
  const spy = readBarsCsv(readFileSync(resolve(__dirname, '../data/sample/SPY_1d.csv'), 'utf8'), {
    timeframe: '1d',
  }).bars;
  await bars.commit({ ingestionId: 'bench-spy', symbol: 'SPY', timeframe: '1d', bars: spy });
  const loadMs = performance.now() - t0;

  const nc: NatsConnection = await connect({ servers: url });
  const bucket = `bench-reads-${process.pid}-${Date.now()}`;
  const prefix = `bench-rpc-${process.pid}`;
  const snapshots = await ObjectStoreArtifactStore.open(nc, { bucket });
  const responder = new MarketDataReadResponder({
    connection: nc,
    reader,
    snapshots,
    tracker,
    queue: prefix,
    subjectPrefix: prefix,
  });
  await responder.start();

  const child: ChildProcess = fork(__filename, ['remote'], {
    execArgv: ['-r', '@swc-node/register'],
    env: { ...process.env, BENCH_NATS_URL: url, BENCH_BUCKET: bucket, BENCH_PREFIX: prefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((ok, fail) => {
    child.once('message', () => ok());
    child.once('exit', (code) => fail(new Error(`remote reader exited with ${code}`)));
  });
  const ask = (m: ChildRequest) =>
    new Promise<ChildReply>((ok, fail) => {
      child.once('message', (r: ChildReply) => (r.error ? fail(new Error(`remote read: ${r.error}`)) : ok(r)));
      child.send(m);
    });

  const windows: Record<string, BarsRequest> = {
    bars1m: { symbol: 'WALK', timeframe: '1m', adjust: 'total' },
    daily20y: {
      symbol: 'SPY',
      timeframe: '1d',
      adjust: 'total',
      from: Date.parse('2001-01-01T00:00:00Z'),
      to: Date.parse('2020-12-31T00:00:00Z'),
    },
  };
  const results: Record<string, Record<string, number | string>> = {};
  const dirs: string[] = [];
  const freshDir = () => {
    const d = mkdtempSync(join(dataDir, 'cache-'));
    dirs.push(d);
    return d;
  };
  try {
    for (const [name, req] of Object.entries(windows)) {
      // In process.
      const local = await reader.getBars(req); // warm DuckDB's buffers once
      const inProcess: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await reader.getBars(req);
        inProcess.push(performance.now() - t);
      }
      const want = checksum(local.bars);
      const check = (r: ChildReply) => {
        if (r.rows !== local.bars.length || r.checksum !== want)
          throw new Error(`${name}: remote window differs from the in-process one (${r.rows} rows)`);
      };
      // Cold: nothing cached anywhere.
      const cold: number[] = [];
      const responderMs: number[] = [];
      const sources = new Set<string>();
      for (let i = 0; i < RUNS; i++) {
        await responder.flush(); // the previous run's snapshot write is done (an idle system), outside the timing
        tracker.bump({ symbol: req.symbol }, false); // as after a write, without the republish
        for (const k of responder.snapshotKeys()) await snapshots.delete(k);
        const r = await ask({ op: 'cold', req, cacheDir: freshDir() });
        check(r);
        cold.push(r.ms);
        responderMs.push(responder.lastComputeMs ?? NaN);
        sources.add(String(r.source));
      }
      // Cold reader: the responder has the window and the snapshot; the reader's cache is fresh.
      await responder.flush();
      const coldReader: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await ask({ op: 'cold', req, cacheDir: freshDir() });
        check(r);
        coldReader.push(r.ms);
      }
      // Warm: the snapshot (or inline window) is in the reader's cache.
      const warmDir = freshDir();
      check(await ask({ op: 'warm', req, cacheDir: warmDir }));
      const warm: number[] = [];
      const warmSources = new Set<string>();
      for (let i = 0; i < RUNS; i++) {
        const r = await ask({ op: 'warm', req, cacheDir: warmDir });
        check(r);
        warm.push(r.ms);
        warmSources.add(String(r.source));
      }
      const warmDisk: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await ask({ op: 'warmDisk', req, cacheDir: warmDir });
        check(r);
        warmDisk.push(r.ms);
      }
      const ip = median(inProcess);
      results[name] = {
        rows: local.bars.length,
        ipcBytes: responder.lastReplyBytes ?? 0,
        inProcessMs: round(ip),
        coldRemoteMs: round(median(cold)),
        coldResponderComputeMs: round(median(responderMs)),
        coldReaderMs: round(median(coldReader)),
        warmRemoteMs: round(median(warm)),
        warmDiskMs: round(median(warmDisk)),
        coldRatio: round(median(cold) / ip, 2),
        coldReaderRatio: round(median(coldReader) / ip, 2),
        warmRatio: round(median(warm) / ip, 2),
        coldPath: [...sources].join(','),
        warmPath: [...warmSources].join(','),
      };
    }
  } finally {
    child.send('exit');
    await responder.stop();
    await snapshots.destroy().catch(() => undefined);
    await nc.close();
    await bus.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const b = results.bars1m;
  const d = results.daily20y;
  console.log(
    JSON.stringify({
      bench: 'reads',
      runs: RUNS,
      loadMs: round(loadMs),
      bars1m: b,
      daily20y: d,
      targets: {
        cold1mRemoteLe3xInProcess: { ratio: b.coldRatio, met: Number(b.coldRatio) <= 3 },
        warm1mLe1_2xInProcess: { ratio: b.warmRatio, met: Number(b.warmRatio) <= 1.2 },
        warmDaily20yLe1_2xInProcess: { ratio: d.warmRatio, met: Number(d.warmRatio) <= 1.2 },
      },
      machine: { cpus: cpus().length, node: process.version },
    }),
  );
}

if (process.argv[2] === 'remote') void remote();
else
  main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
