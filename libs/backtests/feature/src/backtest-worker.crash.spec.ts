import { Logger, type INestMicroservice } from '@nestjs/common';
import {
  BacktestRunCompletedV1,
  ExecutionSettingsSchema,
  RunBacktestCommandV1,
  type BacktestRunSpec,
} from '@strata/backtests-contracts';
import { type EventBus, type PayloadOf } from '@strata/platform-contracts';
import { runBacktest, STRATEGY_TEMPLATES } from '@strata/backtests-domain';
import { InProcessMarketDataReader, MarketDataService } from '@strata/marketdata-feature';
import { definitionHash } from './strategies.service';
import { uuidv7 } from '@strata/shared-util';
import { BacktestRunsRepository } from './backtest-runs.repository';
import { BacktestWorker, type BacktestWorkerOptions } from './backtest-worker';
import { MarketDataBacktestData } from './market-data.backtest-data';
import { backtestsTestEnv, startBacktestWorker, type BacktestsTestEnv } from './testing/backtests-test-app';

jest.setTimeout(120_000);

const spec = (): BacktestRunSpec => {
  const definition = STRATEGY_TEMPLATES[0].definition;
  return {
    strategy: null,
    definition,
    definitionHash: definitionHash(definition),
    params: definition.params,
    from: null,
    to: null,
    initialCapital: 100_000,
    execution: ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 1 } }),
    riskFreeRate: 0,
    lookAheadCheck: { enabled: false, samples: 1 },
    qualityFilter: 'include',
  };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('backtest worker crash: a worker dies mid-run, another takes over, exactly one result', () => {
  let env: BacktestsTestEnv;
  let runs: BacktestRunsRepository;
  let marketData: MarketDataBacktestData;
  const runners: INestMicroservice[] = [];
  const completed: PayloadOf<typeof BacktestRunCompletedV1>[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    env = await backtestsTestEnv(['SPY']);
    runs = new BacktestRunsRepository(env.store);
    marketData = new MarketDataBacktestData(
      new InProcessMarketDataReader({ marketData: new MarketDataService(env.bars, env.actions, env.bus) }),
    );
    await env.bus.subscribe(BacktestRunCompletedV1, (e) => void completed.push(e), { consumer: 'test__completed' });
  });
  afterAll(async () => {
    for (const r of runners) await r.close();
    await env.close();
  });

  const worker = (bus: EventBus, o: BacktestWorkerOptions) => new BacktestWorker(runs, marketData, env.series, bus, o);
  const start = async (w: BacktestWorker, bus: EventBus) => {
    const r = await startBacktestWorker(w, bus);
    runners.push(r);
    return r;
  };
  // Short lease and ack wait so that the test takes seconds; the same code runs with minutes in production.
  const timing = {
    leaseMs: 400,
    heartbeatMs: 50,
    sliceSteps: 200,
    ackWaitMs: 800,
    backoffMs: [100, 200],
    maxDeliver: 100,
    progressIntervalMs: 60_000,
  };

  it('hung worker A loses the run to B after its lease; A cannot complete when it wakes up', async () => {
    // Worker A "dies" after its first simulated slice: no heartbeat, no ack, until revived at the end (every slice
    // of every delivery A gets meanwhile freezes too).
    const hung: Array<() => void> = [];
    let dead = true;
    const a = worker(env.bus, {
      ...timing,
      workerId: 'A',
      sweepIntervalMs: 0,
      afterSlice: () => (dead ? new Promise<void>((res) => hung.push(res)) : undefined),
    });
    await start(a, env.bus);
    const runId = uuidv7();
    await env.bus.publish(
      RunBacktestCommandV1,
      { runId, spec: spec(), requestedAt: new Date().toISOString() },
      { id: runId },
    );
    await waitFor(
      'A to claim and hang',
      async () => hung.length > 0 && (await runs.get(runId))?.claim?.workerId === 'A',
    );

    // Worker B joins the queue (with the recovery sweep on).
    const b = worker(env.bus, { ...timing, workerId: 'B', sweepIntervalMs: 200 });
    await start(b, env.bus);
    const done = await waitFor('completion', async () => {
      const d = await runs.get(runId);
      return d?.status === 'completed' ? d : null;
    });
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(done.claim).toBeNull();

    // A wakes up: its heartbeats and its completion hit a claim that is no longer its own.
    dead = false;
    for (const h of hung.splice(0)) h();
    await sleep(1_500);

    const final = (await runs.get(runId))!;
    expect(final.status).toBe('completed');
    expect(final.result).toEqual(done.result);
    expect(final.seriesAttempt).toBe(done.seriesAttempt);
    expect(completed.filter((e) => e.runId === runId)).toHaveLength(1);
    // Only the winning attempt's rows exist.
    const rows = await env.series.count(runId);
    expect(rows).toEqual(await env.series.count(runId, done.seriesAttempt!));
    expect(rows.equity).toBe(done.result!.periods + 1);
    // And the result is the engine's result on these bars.
    const spy = (await marketData.bars({ symbol: 'SPY', timeframe: '1d', adjust: 'total' }))!;
    const direct = runBacktest({
      definition: spec().definition,
      data: { timeframe: '1d', symbols: [spy] },
      initialCapital: 100_000,
      execution: spec().execution,
      benchmark: { symbol: 'SPY', ts: spy.ts, close: spy.close },
    });
    expect(done.result!.fingerprint).toBe(direct.fingerprint);

    // A redelivery of the command after completion is acknowledged without a second result.
    const before = final._version;
    await env.bus.publish(RunBacktestCommandV1, { runId, spec: spec(), requestedAt: final.createdAt });
    await sleep(800);
    expect((await runs.get(runId))!._version).toBe(before);
    expect(completed.filter((e) => e.runId === runId)).toHaveLength(1);
  });

  it('concurrent deliveries of one command to several workers yield one run and one result', async () => {
    const runId = uuidv7();
    const cmd = { runId, spec: spec(), requestedAt: new Date().toISOString() };
    const ws = ['C', 'D', 'E'].map((id) => worker(env.bus, { ...timing, workerId: id, sweepIntervalMs: 0 }));
    // The same command handled by three workers at once (as after a redelivery storm): one claims, the others wait.
    const outcomes = await Promise.allSettled(ws.map((w) => w.handle(cmd, { deliveryCount: 1 })));
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as Error).name).toBe('ClaimHeldError');
    const d = (await runs.get(runId))!;
    expect(d).toMatchObject({ status: 'completed', attempts: 1 });
    await waitFor('completion event', async () => completed.some((e) => e.runId === runId));
    // Late deliveries to every worker: nothing new.
    for (const w of ws) await w.handle(cmd, { deliveryCount: 2 });
    expect((await runs.get(runId))!._version).toBe(d._version);
    expect(completed.filter((e) => e.runId === runId)).toHaveLength(1);
  });

  it('the recovery sweep announces a run whose claim expired', async () => {
    const runId = uuidv7();
    const now = Date.now();
    await runs.insert({
      id: runId,
      status: 'running',
      strategyId: null,
      spec: spec(),
      createdAt: new Date(now - 10_000).toISOString(),
      startedAt: new Date(now - 10_000).toISOString(),
      finishedAt: null,
      attempts: 1,
      claim: {
        token: 't',
        workerId: 'gone',
        claimedAt: new Date(now - 10_000).toISOString(),
        leaseUntil: new Date(now - 5_000).toISOString(),
      },
      progress: null,
      result: null,
      error: null,
      seriesAttempt: null,
      finalEventPublished: false,
    });
    const seen: string[] = [];
    await env.bus.subscribe(RunBacktestCommandV1, (c, ctx) => void (c.runId === runId && seen.push(ctx.envelope.id)), {
      consumer: 'test__sweep_probe',
      deliverFrom: 'new',
    });
    const w = worker(env.bus, { ...timing, workerId: 'S' });
    expect(await w.sweep()).toBeGreaterThanOrEqual(1);
    expect(await w.sweep()).toBeGreaterThanOrEqual(1); // a second sweeper publishes the same envelope id
    await waitFor('the announced command', async () => seen.length > 0);
    await sleep(200);
    expect(seen).toEqual([`${runId}.retry-1`]);
  });
});
