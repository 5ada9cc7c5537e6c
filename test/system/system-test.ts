/**
 * `npm run test:system`: the split deployment end to end (issue 13). Not part of `npm test`.
 *
 * Starts nats-server and FerretDB (or uses NATS_URL / MONGODB_URI), builds once (`npm run build`, skipped with
 * STRATA_SYSTEM_SKIP_BUILD=1), then runs every service as its own OS process from `dist/apps/<app>/src/main.js`:
 * marketdata, sentinel, regime, signals ×2, backtests ×2 and the gateway, each with its own PORT and STRATA_DATA_DIR. Through
 * the gateway only it checks ingest (a bundled file and a 10 MB file), bars and features, a planted bad tick → a
 * DataQualityEvent → a backtest with `qualityFilter: exclude` without it, a backtest, a model trained, promoted and
 * scoring refreshed bars; then the faults: `kill -9` of a backtest worker mid-run, `kill -9` and restart of marketdata,
 * and the signals service stopped and started. Prints ONE JSON line of timings on stdout; exits 1 on any failure.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openInfra, type SystemInfra } from './infra';
import { FatalError, freePort, ProcessGroup, sleep, waitFor, type ServiceProcess } from './processes';
import { bigMinuteCsv, continuedDailyCsv, plantedBadTicks } from './data';

const ROOT = resolve(__dirname, '../..');
const KEYS = { admin: 'sys-admin-key-0001', operator: 'sys-operator-key-0001', viewer: 'sys-viewer-key-0001' };
/** How long the gateway may take to name a down service (its forward timeout plus slack). */
const DOWN_503_WITHIN_MS = Number(process.env.STRATA_SYSTEM_503_WITHIN_MS ?? 15_000);

const log = (msg: string): void =>
  void process.stderr.write(`[system ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  ms: number;
  contentType: string;
}

/** A client of the gateway (the only door the test uses). */
class Gateway {
  constructor(private readonly base: () => string) {}

  async call(method: string, path: string, body?: unknown, key = KEYS.operator, timeoutMs = 180_000): Promise<Reply> {
    const t0 = performance.now();
    const init: RequestInit = { method, headers: { 'x-api-key': key }, signal: AbortSignal.timeout(timeoutMs) };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const r = await fetch(`${this.base()}${path}`, init);
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return {
      status: r.status,
      body: parsed,
      ms: performance.now() - t0,
      contentType: r.headers.get('content-type') ?? '',
    };
  }

  get = (path: string, key = KEYS.viewer): Promise<Reply> => this.call('GET', path, undefined, key);
  post = (path: string, body?: unknown, key = KEYS.operator): Promise<Reply> => this.call('POST', path, body, key);

  /** Multipart upload of a CSV to `POST /market-data/ingest`. */
  async ingestFile(symbol: string, timeframe: string, csv: string, name = `${symbol}.csv`): Promise<Reply> {
    const form = new FormData();
    form.set('symbol', symbol);
    form.set('timeframe', timeframe);
    form.set('file', new Blob([csv], { type: 'text/csv' }), name);
    return this.call('POST', '/market-data/ingest', form);
  }
}

const expectStatus = (r: Reply, status: number | number[], what: string): void => {
  const ok = Array.isArray(status) ? status.includes(r.status) : r.status === status;
  assert.ok(ok, `${what}: expected HTTP ${String(status)}, got ${r.status} ${JSON.stringify(r.body).slice(0, 600)}`);
};

/** CPU time (user + system, clock ticks) of a process, from /proc. */
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function main(): Promise<void> {
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const work = mkdtempSync(join(tmpdir(), 'strata-system-'));
  const timings: Record<string, number> = {};
  const t = (name: string, ms: number): void => void (timings[name] = Math.round(ms));
  const group = new ProcessGroup(ROOT, join(work, 'logs'));
  let infra: SystemInfra | undefined;
  let failed: unknown;
  const tStart = performance.now();
  try {
    log(`run ${runId}, work dir ${work}`);
    infra = await openInfra(ROOT, runId, work);
    log(`infra (${infra.kind}): ${infra.natsUrl} ${infra.mongodbUri}`);
    if (process.env.STRATA_SYSTEM_SKIP_BUILD !== '1') {
      const b0 = performance.now();
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
      t('buildMs', performance.now() - b0);
    }

    // ---------------------------------------------------------------------------------------------------- boot
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? work,
      NODE_ENV: 'production',
      NATS_URL: infra.natsUrl,
      MONGODB_URI: infra.mongodbUri,
      STRATA_API_KEYS: `admin:${KEYS.admin},operator:${KEYS.operator},viewer:${KEYS.viewer}`,
      LOG_LEVEL: process.env.STRATA_SYSTEM_LOG_LEVEL ?? 'info',
      // Fast recovery of a killed backtest worker: claims expire after 4 s and the sweep looks every 4 s.
      BACKTESTS_WORKER_LEASE_MS: '4000',
      SIGNALS_BATCH_THREADS: '0',
      SIGNALS_ORT_THREADS: '1',
    };
    const proc = async (name: string, app: string, extra: Record<string, string> = {}): Promise<ServiceProcess> =>
      group.add(name, app, await freePort(), join(work, 'data', name), { ...env, ...extra });
    const marketdata = await proc('marketdata', 'marketdata');
    const sentinel = await proc('sentinel', 'sentinel');
    const regime = await proc('regime', 'regime');
    const signals = [await proc('signals-1', 'signals'), await proc('signals-2', 'signals')];
    const backtests = [await proc('backtests-1', 'backtests'), await proc('backtests-2', 'backtests')];
    const gatewayProc = await proc('gateway', 'gateway');
    const gw = new Gateway(() => gatewayProc.url);
    const all = [marketdata, sentinel, regime, ...signals, ...backtests, gatewayProc];
    const b0 = performance.now();
    // marketdata first: it creates the streams every other service subscribes on; then the rest at once.
    marketdata.start();
    await marketdata.ready();
    for (const p of all.slice(1)) p.start();
    await Promise.all(all.map((p) => p.ready()));
    t('bootMs', performance.now() - b0);
    log(`booted ${all.length} processes in ${timings.bootMs} ms`);
    const health = await gw.get('/health');
    expectStatus(health, 200, 'gateway /health');

    // ------------------------------------------------------------------------- ingest: a bundled file and 10 MB
    const spy = readFileSync(join(ROOT, 'data/sample/SPY_1d.csv'), 'utf8');
    const i0 = performance.now();
    const spyIngest = await gw.ingestFile('SPY', '1d', spy, 'SPY_1d.csv');
    expectStatus(spyIngest, 201, 'ingest of data/sample/SPY_1d.csv');
    assert.equal(spyIngest.body.accepted, spy.trim().split('\n').length - 1);
    const spyFeatures = await waitFor('SPY features', async () => {
      const r = await gw.get('/features?set=core&symbol=SPY&timeframe=1d&from=2021-03-01&limit=100');
      return r.status === 200 && r.body.items?.length > 10 ? r.body.items : undefined;
    });
    t('ingestToFeaturesMs', performance.now() - i0);
    assert.ok(spyFeatures.every((f: { symbol: string }) => f.symbol === 'SPY'));
    // The regime service (its own process) fits SPY from the bars-ingested event and caches its filtered state.
    const spyLastTs = `${spy.trim().split('\n').at(-1)!.split(',')[0]}T00:00:00.000Z`;
    const regimeNow = await waitFor(
      'SPY regime as of the last ingested bar',
      async () => {
        const r = await gw.get('/market-data/regime?symbol=SPY&timeframe=1d');
        return r.status === 200 && r.body.asOf === spyLastTs ? r.body : undefined;
      },
      120_000,
      100,
    );
    t('ingestToRegimeFirstFitMs', performance.now() - i0);
    assert.equal(regimeNow.stale, false);
    assert.equal(regimeNow.modelVersion, 1);
    assert.ok(['calm', 'normal', 'turbulent'].includes(regimeNow.label), `regime label ${regimeNow.label}`);
    const spyBars = await gw.get('/market-data/bars?symbol=SPY&timeframe=1d&from=2021-03-25&limit=100');
    expectStatus(spyBars, 200, 'SPY bars');
    assert.equal(spyBars.body.items.at(-1).close, Number(spy.trim().split('\n').at(-1)!.split(',')[4]));

    // ------------------------------------------------------------------ planted bad tick → DataQualityEvent → exclude
    const dq = plantedBadTicks(spy, [300, 420]);
    const d0 = performance.now();
    expectStatus(await gw.ingestFile('SPYDQ', '1d', dq.csv), 201, 'ingest of the planted bad ticks');
    const events = await waitFor(
      'DataQualityEvents of the planted ticks',
      async () => {
        const r = await gw.get('/data-quality/events?symbol=SPYDQ&limit=100');
        const items = (r.body?.items ?? []) as { barTs: string }[];
        return dq.planted.every((p) => items.some((e) => e.barTs === p)) ? items : undefined;
      },
      120_000,
      250,
    );
    t('ingestToDataQualityEventMs', performance.now() - d0);
    log(`${events.length} DataQualityEvents for SPYDQ`);
    const big = bigMinuteCsv(10 * 1024 * 1024, 7);
    const g0 = performance.now();
    const bigIngest = await gw.ingestFile('BIGM', '1m', big.csv, 'BIGM_1m.csv');
    t('ingest10MbMs', performance.now() - g0);
    expectStatus(bigIngest, 201, `ingest of a ${(big.csv.length / 1e6).toFixed(1)} MB CSV`);
    assert.equal(bigIngest.body.accepted, big.rows);
    const bigLast = await gw.get(`/market-data/bars?symbol=BIGM&timeframe=1m&from=${big.lastTs}&limit=5`);
    expectStatus(bigLast, 200, 'BIGM bars');
    assert.equal(bigLast.body.items.length, 1);
    assert.equal(bigLast.body.items[0].close, big.lastClose);
    await waitFor(
      'BIGM features',
      async () => {
        const r = await gw.get(`/features?set=core&symbol=BIGM&timeframe=1m&from=${big.lastTs}&limit=5`);
        return r.status === 200 && r.body.items?.length === 1 ? true : undefined;
      },
      120_000,
    );
    t('ingest10MbToFeaturesMs', performance.now() - g0);
    log(`ingested SPY and ${big.rows} BIGM bars; features readable`);

    const strategy = await gw.post('/strategies/from-template', { template: 'sma_crossover', symbols: ['SPYDQ'] });
    expectStatus(strategy, 201, 'strategy from template');
    const runBacktest = async (body: object): Promise<{ dto: Reply['body']; ms: number }> => {
      const s0 = performance.now();
      const r = await gw.post('/backtests', body);
      expectStatus(r, 202, 'POST /backtests');
      const dto = await waitFor(
        `backtest ${r.body.id}`,
        async () => {
          const g = await gw.get(`/backtests/${r.body.id}`);
          return ['completed', 'failed'].includes(g.body?.status) ? g.body : undefined;
        },
        180_000,
        200,
      );
      return { dto, ms: performance.now() - s0 };
    };
    const include = await runBacktest({ strategyId: strategy.body.id, lookAheadCheck: { enabled: false } });
    t('backtestMs', include.ms);
    const exclude = await runBacktest({
      strategyId: strategy.body.id,
      qualityFilter: 'exclude',
      lookAheadCheck: { enabled: false },
    });
    for (const r of [include, exclude]) assert.equal(r.dto.status, 'completed', JSON.stringify(r.dto.error));
    assert.equal(include.dto.result.data[0].bars, dq.rows);
    assert.ok(exclude.dto.result.data[0].bars <= dq.rows - dq.planted.length, 'flagged bars left out of the run');
    const equity = await gw.get(`/backtests/${exclude.dto.id}/equity?limit=10000`);
    expectStatus(equity, 200, 'equity of the excluding run');
    assert.ok(equity.body.items.length >= exclude.dto.result.data[0].bars - 1, 'the run series are readable');
    const times = new Set((equity.body.items as { ts: string }[]).map((p) => p.ts));
    for (const p of dq.planted) assert.ok(!times.has(p), `planted tick ${p} is not on the excluding run's timeline`);
    log(
      `backtests completed (include ${include.dto.result.data[0].bars} bars, exclude ${exclude.dto.result.data[0].bars})`,
    );

    // ------------------------------------------------------------- a model trains, is promoted, scores refreshed bars
    const m0 = performance.now();
    const train = await gw.post('/signals/models', {
      name: 'sys_spy_5d_up',
      symbols: ['SPY'],
      objective: 'binary',
      label: { horizon: 5, deadZone: 0.001 },
      walkForward: { folds: 2 },
      params: { numTrees: 15, maxLeaves: 7, learningRate: 0.1, minDataInLeaf: 50, seed: 1 },
    });
    expectStatus(train, 202, 'POST /signals/models');
    const model = await waitFor(
      `model ${train.body.id}`,
      async () => {
        const g = await gw.get(`/signals/models/${train.body.id}`);
        return ['completed', 'failed'].includes(g.body?.status) ? g.body : undefined;
      },
      240_000,
      250,
    );
    assert.equal(model.status, 'completed', JSON.stringify(model.error));
    t('trainMs', performance.now() - m0);
    expectStatus(await gw.post(`/signals/models/${model.id}/aliases/champion`), [200, 201], 'promote to champion');
    const more = continuedDailyCsv(spy, 5, 11);
    const r0 = performance.now();
    expectStatus(await gw.ingestFile('SPY', '1d', more.csv), 201, 'ingest of refreshed SPY bars');
    // Polled alongside the champion score: the regime moves forward by one filter step per new bar (no refit at 5).
    const a0 = performance.now();
    const regimeFreshP = waitFor(
      'SPY regime as of the refreshed bars',
      async () => {
        const r = await gw.get('/market-data/regime?symbol=SPY&timeframe=1d');
        return r.status === 200 && r.body.asOf === more.lastTs ? r.body : undefined;
      },
      120_000,
      50,
    ).then((body) => {
      t('ingestToRegimeFreshMs', performance.now() - a0);
      return body;
    });
    const latest = await waitFor(
      'champion score of the refreshed bars',
      async () => {
        const g = await gw.get('/signals/SPY/latest?timeframe=1d');
        return g.status === 200 && g.body.ts === more.lastTs ? g.body : undefined;
      },
      120_000,
      200,
    );
    t('ingestToChampionScoreMs', performance.now() - r0);
    const regimeFresh = await regimeFreshP;
    assert.equal(regimeFresh.stale, false);
    const regimeHistory = await gw.get(`/market-data/regime/history?symbol=SPY&timeframe=1d&from=${spyLastTs}`);
    expectStatus(regimeHistory, 200, 'SPY regime history');
    assert.deepEqual(
      regimeHistory.body.items.map((r: { asOf: string }) => r.asOf).slice(0, 1),
      [spyLastTs],
      'the history starts at the first fit and is never rewritten',
    );
    assert.equal(regimeHistory.body.items.length, more.rows + 1);
    const refit = await gw.post('/market-data/regime/models', { symbol: 'SPY', timeframe: '1d' });
    expectStatus(refit, 202, 'POST /market-data/regime/models');
    assert.equal(refit.body.modelVersion, 2);
    log(`regime of SPY: ${regimeFresh.label} as of ${regimeFresh.asOf}; refit queued as version 2`);
    assert.equal(latest.modelId, model.id);
    assert.equal(typeof latest.score, 'number');
    log(`champion ${model.id} scored ${latest.ts}: ${latest.score}`);

    // ---------------------------------------------------------------------- fault: kill -9 a backtest worker mid-run
    // A long run: every 1-minute bar of the 10 MB series, with the look-ahead check re-running it.
    const bigStrategy = await gw.post('/strategies/from-template', { template: 'sma_crossover', symbols: ['BIGM'] });
    expectStatus(bigStrategy, 201, 'strategy for BIGM');
    const def = bigStrategy.body.latest.definition;
    const longRun = await gw.post('/backtests', {
      definition: { ...def, universe: { ...def.universe, timeframe: '1m' } },
      lookAheadCheck: { enabled: true, samples: Number(process.env.STRATA_SYSTEM_LOOKAHEAD_SAMPLES ?? 60) },
    });
    expectStatus(longRun, 202, 'POST /backtests (long run)');
    await waitFor('the long run to start simulating', async () => {
      const g = await gw.get(`/backtests/${longRun.body.id}`);
      if (['completed', 'failed'].includes(g.body?.status))
        throw new FatalError(`the long run finished before the kill: ${JSON.stringify(g.body.error ?? g.body.status)}`);
      return g.body?.status === 'running' && g.body.progress?.phase !== 'loading' ? true : undefined;
    });
    // The worker running it is the one burning CPU.
    const delta = await waitFor('one busy backtest worker', async () => {
      const before = backtests.map((p) => cpuTicks(p.child!.pid!));
      await sleep(500);
      const d = backtests.map((p, i) => cpuTicks(p.child!.pid!) - before[i]);
      return Math.abs(d[0] - d[1]) >= 10 ? d : undefined;
    });
    const victim = backtests[delta[0] >= delta[1] ? 0 : 1];
    const survivor = backtests[delta[0] >= delta[1] ? 1 : 0];
    const k0 = performance.now();
    await victim.stop('SIGKILL');
    log(`kill -9 ${victim.name} (cpu ticks ${delta.join('/')}) while running ${longRun.body.id}`);
    const done = await waitFor(
      'the long run to complete on the other worker',
      async () => {
        const g = await gw.get(`/backtests/${longRun.body.id}`);
        return ['completed', 'failed'].includes(g.body?.status) ? g.body : undefined;
      },
      240_000,
      250,
    );
    t('backtestWorkerKillRecoveryMs', performance.now() - k0);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.ok(done.attempts >= 2, `attempts ${done.attempts}: the run was taken over`);
    const completions = [victim, survivor].map(
      (p) =>
        readFileSync(p.logFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes('backtest completed') && l.includes(longRun.body.id)).length,
    );
    assert.deepEqual(completions, [0, 1], 'completed exactly once, by the surviving worker');
    victim.start();
    await victim.ready();

    // ------------------------------------------------------------- fault: kill -9 marketdata, restart, nothing lost
    const acked: { symbol: string; rows: number; lastTs: string; lastClose: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const c = continuedDailyCsv(spy, 30, 100 + i);
      const symbol = `ACK${i}`;
      const r = await gw.ingestFile(symbol, '1d', c.csv);
      expectStatus(r, 201, `ingest ${symbol}`);
      acked.push({ symbol, rows: c.rows, lastTs: c.lastTs, lastClose: c.lastClose });
    }
    const m9 = performance.now();
    await marketdata.stop('SIGKILL');
    log('kill -9 marketdata');
    marketdata.start();
    await waitFor(
      'bar reads through the gateway after the marketdata restart',
      async () => {
        const g = await gw.get('/market-data/bars?symbol=SPY&timeframe=1d&limit=1');
        return g.status === 200 ? true : undefined;
      },
      120_000,
      100,
    );
    t('marketdataKillRecoveryMs', performance.now() - m9);
    for (const a of acked) {
      const g = await gw.get(`/market-data/bars?symbol=${a.symbol}&timeframe=1d&limit=1000`);
      expectStatus(g, 200, `bars of ${a.symbol} after the restart`);
      assert.equal(g.body.items.length, a.rows, `every acknowledged bar of ${a.symbol} survived`);
      assert.equal(g.body.items.at(-1).close, a.lastClose);
    }
    await marketdata.ready();

    // --------------------------------------------------------------- fault: signals stopped → 503, then recovery
    await Promise.all(signals.map((p) => p.stop('SIGTERM')));
    const down = await gw.get('/signals/models?limit=1');
    expectStatus(down, 503, 'GET /signals/models with the signals service down');
    assert.ok(down.contentType.includes('application/problem+json'), `503 is problem+json (${down.contentType})`);
    assert.ok(
      JSON.stringify(down.body).includes('signals'),
      `the 503 names the signals service: ${JSON.stringify(down.body)}`,
    );
    assert.ok(down.ms <= DOWN_503_WITHIN_MS, `503 within ${DOWN_503_WITHIN_MS} ms (took ${Math.round(down.ms)})`);
    t('signalsDown503Ms', down.ms);
    const s0 = performance.now();
    for (const p of signals) p.start();
    await waitFor(
      'signals routes after the restart',
      async () => ((await gw.get('/signals/models?limit=1')).status === 200 ? true : undefined),
      120_000,
      100,
    );
    t('signalsRestartRecoveryMs', performance.now() - s0);
  } catch (e) {
    failed = e;
  } finally {
    await group.killAll();
    if (failed) process.stderr.write(`\nprocess logs (tails):\n${group.tails()}\n`);
    await infra?.close().catch((e: unknown) => log(`infra cleanup: ${String(e)}`));
    if (!failed || process.env.STRATA_SYSTEM_KEEP !== '1') rmSync(work, { recursive: true, force: true });
    else log(`logs kept in ${work}`);
  }
  const line = {
    test: 'system',
    ok: !failed,
    ...timings,
    totalMs: Math.round(performance.now() - tStart),
    machine: { cpus: cpus().length, node: process.version },
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (failed) {
    process.stderr.write(
      `\nsystem test FAILED: ${failed instanceof Error ? (failed.stack ?? failed.message) : String(failed)}\n`,
    );
    process.exit(1);
  }
}

mkdirSync(tmpdir(), { recursive: true });
void main();
