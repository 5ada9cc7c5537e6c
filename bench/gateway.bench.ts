/**
 * `npm run bench:gateway`: requests per second and latency of the gateway's routes, with autocannon (32 connections,
 * 2 s warm-up then 10 s measured per route), in ONE run, beside plain Fastify serving the same `/health` JSON:
 *
 * - `plain`: plain Fastify, the peer (`/health` only), up all run and measured right before each topology;
 * - `allInOne`: the all-in-one platform (`startPlatform`, in-process bus, embedded stores, the bundled sample);
 * - `split`: the gateway (apps/gateway) forwarding over NATS to the marketdata service (apps/marketdata) and the
 *   backtests service (apps/backtests), each in its own OS process, documents in a MongoDB database of the run
 *   (needs NATS_URL and MONGODB_URI).
 *
 * Every server runs in a child process of its own (bench/gateway-server.ts), so the load generator never shares its
 * event loop; each reports ready once quiet. Routes: `/health/live`, `/health`, `/strategies/templates`,
 * `/market-data/bars?…&limit=100` (a random window per request), `/market-data/symbols`. Data: data/sample (seven
 * daily series, ingested at start); then 200,000 synthetic one-minute bars are ingested through the gateway and
 * `/market-data/symbols` is measured again (a scan slows down with the bar count, a catalogue does not).
 *
 * Prints ONE JSON line: `plain` (the peer before each topology), `livePairs` (three back-to-back plain / `/health/live`
 * pairs per topology; the live ratio is their median), per topology per route req/s, p50, p99 (ms), errors and the
 * ratio to the adjacent plain Fastify run, `symbolsAfterIngest`, `targets` with `met` flags
 * (issue 13 item 10), `machine` {cpus, node, loadavg}.
 * Options (env): BENCH_DURATION_S (10), BENCH_WARMUP_S (2), BENCH_CONNECTIONS (32), BENCH_TOPOLOGIES
 * (`allInOne,split`), BENCH_ROUTES (comma-separated route names: live, health, templates, bars, symbols), LOG_LEVEL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<{
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}>;

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const VIEWER_KEY = 'bench-viewer-key-0001';
const OPERATOR_KEY = 'bench-operator-key-0001';
const SERVER = resolve(__dirname, 'gateway-server.ts');
const REPO = resolve(__dirname, '..');

/** A route: the path shown in the result, and the path of each request (random windows for bars). */
interface Route {
  path: string;
  next?: () => string;
}

const BAR_SYMBOLS = ['AAPL', 'BAC', 'IBM', 'SPY'];
const FIRST_DAY = Date.UTC(1998, 0, 2);
const LAST_FROM_DAY = Date.UTC(2020, 5, 30);

/**
 * The measured routes. Bars: every request a different window of 100 daily bars (random symbol of four, random
 * `from` day), so no single page is answered over and over.
 */
const ROUTES: Record<string, Route> = {
  live: { path: '/health/live' },
  health: { path: '/health' },
  templates: { path: '/strategies/templates' },
  bars: {
    path: `/market-data/bars?symbol={${BAR_SYMBOLS.join('|')}}&timeframe=1d&from={random day 1998-01-02..2020-06-30}&limit=100`,
    next: () => {
      const sym = BAR_SYMBOLS[Math.floor(Math.random() * BAR_SYMBOLS.length)];
      const day = FIRST_DAY + Math.floor(Math.random() * ((LAST_FROM_DAY - FIRST_DAY) / 86_400_000)) * 86_400_000;
      return `/market-data/bars?symbol=${sym}&timeframe=1d&from=${new Date(day).toISOString().slice(0, 10)}&limit=100`;
    },
  },
  symbols: { path: '/market-data/symbols' },
};

interface RouteResult {
  path: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  ratioToPlain?: number;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Forks one server role with swc; resolves when it reports ready (rejects naming its error or exit). */
async function startServer(
  role: string,
  env: Record<string, string | undefined>,
  logFile: string,
): Promise<{ child: ChildProcess; port: number }> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const out = openSync(logFile, 'a');
  const child = fork(SERVER, [role], {
    cwd: REPO,
    execArgv: ['-r', '@swc-node/register'],
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', out, out, 'ipc'],
  });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${role} did not start within 120 s (log: ${logFile})`)), 120_000);
    child.on('message', (m: { ready?: boolean; error?: string }) => {
      clearTimeout(timer);
      if (m.ready) res();
      else rej(new Error(`${role} failed to start: ${m.error}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${role} exited with ${code} before it was ready (log: ${logFile})`));
    });
  });
  child.removeAllListeners('exit');
  return { child, port };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

async function measure(port: number, route: Route, headers: Record<string, string>): Promise<RouteResult> {
  const url = `http://127.0.0.1:${port}${route.path}`;
  const next = route.next;
  const opts = {
    url: next ? `http://127.0.0.1:${port}` : url,
    connections: CONNECTIONS,
    headers,
    ...(next
      ? { requests: [{ method: 'GET', setupRequest: (req: { path: string }) => ({ ...req, path: next() }) }] }
      : {}),
  };
  if (WARMUP_S > 0) await autocannon({ ...opts, duration: WARMUP_S });
  const r = await autocannon({ ...opts, duration: DURATION_S });
  return {
    path: route.path,
    reqPerSec: Math.round(r.requests.total / DURATION_S),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/** One request of the route must answer 200 (bars: a page of 100) before it is measured. */
async function probe(port: number, route: Route, headers: Record<string, string>): Promise<void> {
  const path = route.next ? route.next() : route.path;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${body.slice(0, 300)}`);
  if (route.next && (JSON.parse(body) as { items: unknown[] }).items.length !== 100)
    throw new Error(`GET ${path} did not return 100 bars`);
}

async function measureRoutes(
  port: number,
  routes: string[],
  headers: Record<string, string>,
): Promise<Record<string, RouteResult>> {
  const out: Record<string, RouteResult> = {};
  for (const name of routes) {
    await probe(port, ROUTES[name], headers);
    out[name] = await measure(port, ROUTES[name], headers);
  }
  return out;
}

/** Series the symbols check ingests (server-side synthetic generator): 200,000 one-minute bars. */
const EXTRA_SERIES = { symbol: 'BENCHSYN', timeframe: '1m', bars: 200_000 };

/** Asks every given server to report once it is quiet again (see `settled` in gateway-server.ts). */
async function settle(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((res) => {
          const on = (m: { settled?: boolean }) => {
            if (!m.settled) return;
            c.off('message', on);
            res();
          };
          c.on('message', on);
          c.send({ settle: true });
        }),
    ),
  );
}

/**
 * The catalogue check: ingests {@link EXTRA_SERIES} (200,000 more bars, eight times the sample) through the
 * gateway, waits until the servers are quiet (features refresh, sentinel scoring), checks that `/market-data/symbols`
 * lists it, and measures the route again. A scan of the bars slows down with the stored bar count; the catalogue does not.
 */
async function symbolsAfterIngest(
  port: number,
  children: ChildProcess[],
  headers: Record<string, string>,
): Promise<RouteResult & { barsStored: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/market-data/ingest`, {
    method: 'POST',
    headers: { 'x-api-key': OPERATOR_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({
      symbol: EXTRA_SERIES.symbol,
      timeframe: EXTRA_SERIES.timeframe,
      source: { kind: 'synthetic', seed: 13, bars: EXTRA_SERIES.bars, start: '2020-01-02' },
    }),
  });
  if (res.status >= 300)
    throw new Error(`the synthetic ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const deadline = Date.now() + 180_000;
  let stored = 0;
  for (;;) {
    const page = (await (await fetch(`http://127.0.0.1:${port}/market-data/symbols`, { headers })).json()) as {
      items: Array<{ symbol: string; bars: number }>;
    };
    stored = page.items.reduce((a, i) => a + i.bars, 0);
    if (page.items.some((i) => i.symbol === EXTRA_SERIES.symbol)) break;
    if (Date.now() > deadline) throw new Error(`${EXTRA_SERIES.symbol} is not listed 180 s after its ingest`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await settle(children);
  return { ...(await measure(port, ROUTES.symbols, headers)), barsStored: stored };
}

async function main(): Promise<void> {
  const topologies = (process.env.BENCH_TOPOLOGIES ?? 'allInOne,split').split(',').map((s) => s.trim());
  const routes = (process.env.BENCH_ROUTES ?? Object.keys(ROUTES).join(',')).split(',').map((s) => s.trim());
  if (topologies.includes('split') && (!process.env.NATS_URL || !process.env.MONGODB_URI)) {
    process.stderr.write(
      'bench:gateway: the split topology needs NATS_URL and MONGODB_URI (e.g. NATS_URL=nats://127.0.0.1:4222 MONGODB_URI=mongodb://127.0.0.1:27017/strata), or BENCH_TOPOLOGIES=allInOne\n',
    );
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), 'strata-bench-gw-'));
  const headers = { 'x-api-key': VIEWER_KEY };
  const keys = `viewer:${VIEWER_KEY},operator:${OPERATOR_KEY}`;
  const children: ChildProcess[] = [];
  const result: Record<string, unknown> = {
    bench: 'gateway',
    connections: CONNECTIONS,
    durationS: DURATION_S,
    warmupS: WARMUP_S,
  };
  const topo: Record<string, Record<string, RouteResult>> = {};
  const extra: Record<string, RouteResult & { barsStored: number; before: RouteResult }> = {};
  let benchDb: string | undefined;
  try {
    // The peer stays up all run and is measured right before each topology (the shared machine's load drifts), so
    // each ratio compares two adjacent measurements.
    const peer = await startServer('plain', {}, join(work, 'plain.log'));
    children.push(peer.child);
    const plainRuns: Record<string, RouteResult> = {};
    const livePairs: Record<string, Array<{ plain: number; live: number; ratio: number }>> = {};
    const run = async (name: string, servers: ChildProcess[], port: number) => {
      // The live ratio from three back-to-back (plain, live) pairs, median: one pair can straddle a load change.
      const pairs: Array<{ plain: number; live: number; ratio: number }> = [];
      if (routes.includes('live'))
        for (let i = 0; i < 3; i++) {
          const p = await measure(peer.port, { path: '/health' }, {});
          const l = await measure(port, ROUTES.live, headers);
          pairs.push({
            plain: p.reqPerSec,
            live: l.reqPerSec,
            ratio: Math.round((l.reqPerSec / p.reqPerSec) * 1000) / 1000,
          });
        }
      livePairs[name] = pairs;
      plainRuns[name] = await measure(peer.port, { path: '/health' }, {});
      topo[name] = await measureRoutes(port, routes, headers);
      for (const r of Object.values(topo[name]))
        r.ratioToPlain = Math.round((r.reqPerSec / plainRuns[name].reqPerSec) * 1000) / 1000;
      if (pairs.length) topo[name].live.ratioToPlain = [...pairs].sort((a, b) => a.ratio - b.ratio)[1].ratio;
      if (routes.includes('symbols'))
        extra[name] = { ...(await symbolsAfterIngest(port, servers, headers)), before: topo[name].symbols };
    };
    if (topologies.includes('allInOne')) {
      const s = await startServer(
        'platform',
        {
          STRATA_DATA_DIR: join(work, 'platform'),
          STRATA_API_KEYS: keys,
          NATS_URL: '',
          MONGODB_URI: '',
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        },
        join(work, 'platform.log'),
      );
      children.push(s.child);
      await run('allInOne', [s.child], s.port);
      await stop(s.child);
    }
    if (topologies.includes('split')) {
      // Each app in its own OS process, on NATS and a MongoDB database of this run (dropped at the end).
      const mongo = new URL(process.env.MONGODB_URI!);
      mongo.pathname = `/strata_bench_gw_${process.pid}`;
      benchDb = mongo.toString();
      const env = (name: string, more: Record<string, string> = {}) => ({
        STRATA_DATA_DIR: join(work, `split-${name}`),
        MONGODB_URI: benchDb,
        NATS_URL: process.env.NATS_URL,
        STRATA_API_KEYS: keys,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        ...more,
      });
      const split: ChildProcess[] = [];
      let gatewayPort = 0;
      for (const [name, more] of [
        ['marketdata', { STRATA_SAMPLE_DIR: join(REPO, 'data/sample') }],
        ['backtests', {}],
        ['gateway', {}],
      ] as const) {
        const s = await startServer(name, env(name, more), join(work, `${name}.log`));
        children.push(s.child);
        split.push(s.child);
        if (name === 'gateway') gatewayPort = s.port;
      }
      await run('split', split, gatewayPort);
      for (const c of split.reverse()) await stop(c);
    }
    result.plain = plainRuns;
    result.livePairs = livePairs;
    result.topologies = topo;
    result.symbolsAfterIngest = extra;
    result.targets = targets(topo, extra);
    result.machine = { cpus: cpus().length, node: process.version, loadavg: loadavg().map((x) => +x.toFixed(2)) };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const c of children) await stop(c).catch(() => undefined);
    if (benchDb) await dropDatabase(benchDb).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Drops the run's MongoDB database. */
async function dropDatabase(uri: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mongoose = require('mongoose') as typeof import('mongoose');
  const conn = await mongoose.createConnection(uri).asPromise();
  await conn.dropDatabase();
  await conn.close();
}

/**
 * Issue 13 item 10's targets, per topology: `/health/live` ≥ 60% of plain Fastify (measured right before);
 * readiness probes cost next to nothing (`/health` at least 80% of `/health/live`); bars ≥ 2,000 req/s with p99 ≤ 50
 * ms; symbols from a catalogue, not a scan (after 200,000 more bars are stored, at least 80% of its rate before).
 */
function targets(
  topo: Record<string, Record<string, RouteResult>>,
  extra: Record<string, RouteResult & { before: RouteResult }>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  for (const [name, t] of Object.entries(topo)) {
    const o: Record<string, unknown> = {};
    if (t.live?.ratioToPlain !== undefined)
      o.liveAtLeast60PctOfPlain = { ratio: t.live.ratioToPlain, met: t.live.ratioToPlain >= 0.6 };
    if (t.health && t.live)
      o.healthAtLeast80PctOfLive = {
        ratio: ratio(t.health.reqPerSec, t.live.reqPerSec),
        met: t.health.reqPerSec >= 0.8 * t.live.reqPerSec,
      };
    if (t.bars)
      o.bars2000RpsP99AtMost50Ms = {
        reqPerSec: t.bars.reqPerSec,
        p99Ms: t.bars.p99Ms,
        met: t.bars.reqPerSec >= 2000 && t.bars.p99Ms <= 50,
      };
    const x = extra[name];
    if (x)
      o.symbolsUnchangedBy200kMoreBars = {
        ratio: ratio(x.reqPerSec, x.before.reqPerSec),
        met: x.reqPerSec >= 0.8 * x.before.reqPerSec,
      };
    out[name] = o;
  }
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:gateway failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
