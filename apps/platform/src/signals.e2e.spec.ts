/** @jest-environment ./libs/signals/infra-onnx/src/testing/onnx-jest-environment.js */
/**
 * ML signals through the all-in-one platform: the API in the gateway app, the training worker and the champion
 * scorer in the `signals` service context, the bundled daily sample loaded on first boot. Trains two models through
 * REST (walk-forward with the leakage guard, ONNX export, registry), promotes and rolls back, scores raw rows and
 * stored series (equal to each other), ingests new bars so the champion scores them, reads the latest score, imports
 * an external LightGBM model and refuses one of the wrong shape.
 */
import { ModelAliasChangedV1, ModelTrainedV1, ScoreComputedV1 } from '@strata/signals-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CORE_V2, DEFAULT_FEATURE_SETS, type FeatureSetImplementation } from '@strata/features-feature';
import { CORE_V2_FEATURE_NAMES } from '@strata/shared-indicators';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

jest.setTimeout(600_000);

const KEYS = { operator: 'operator-key-0001', viewer: 'viewer-key-0001' };

/**
 * A deliberately leaky feature set: three honest `core` v2 columns and `peek_ret_1`, the return of the NEXT bar
 * (close[t+1] / close[t] − 1), which reads a later bar. Registered in the platform like any set.
 */
const LEAKY: FeatureSetImplementation = {
  registration: {
    name: 'leaky',
    version: 1,
    codeVersion: 'test/leaky@1',
    adjust: 'total',
    warmUpBars: 20,
    features: [
      { name: 'ret_5', description: 'core v2 ret_5', params: { period: 5 }, lookback: 5 },
      { name: 'rsi_14', description: 'core v2 rsi_14', params: { period: 14 }, lookback: 14 },
      { name: 'volume_z_20', description: 'core v2 volume_z_20', params: { period: 20 }, lookback: 19 },
      { name: 'peek_ret_1', description: 'LOOK-AHEAD: close[t+1] / close[t] - 1', params: { bars: 1 }, lookback: 0 },
    ],
  },
  calendarOf: CORE_V2.calendarOf,
  computeTail(bars, from, timeframe, calendar) {
    const core = CORE_V2.computeTail(bars, from, timeframe, calendar);
    const n = bars.close.length;
    const peek = Float64Array.from({ length: n - from }, (_, i) =>
      from + i + 1 < n ? bars.close[from + i + 1] / bars.close[from + i] - 1 : NaN,
    );
    return { ret_5: core.ret_5, rsi_14: core.rsi_14, volume_z_20: core.volume_z_20, peek_ret_1: peek };
  },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('signals on the platform (bundled sample)', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  const trained: PayloadOf<typeof ModelTrainedV1>[] = [];
  const aliasChanges: PayloadOf<typeof ModelAliasChangedV1>[] = [];
  const scored: PayloadOf<typeof ScoreComputedV1>[] = [];
  const call = (method: 'GET' | 'POST', url: string, payload?: unknown, key = KEYS.operator) =>
    platform.gateway.inject({
      method,
      url,
      headers: { 'x-api-key': key },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 120_000) => {
    const end = Date.now() + ms;
    while (!(await cond()) && Date.now() < end) await sleep(50);
    return cond();
  };
  const trainAndWait = async (body: object) => {
    const r = await call('POST', '/signals/models', body);
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ status: 'queued', statusUrl: `/signals/models/${r.json().id}` });
    let dto = r.json();
    await waitFor(async () => {
      dto = (await call('GET', r.json().statusUrl, undefined, KEYS.viewer)).json();
      return ['completed', 'failed'].includes(dto.status);
    }, 500_000);
    return dto;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-signals-e2e-'));
    bus = new InProcessEventBus({ service: 'platform' });
    await bus.subscribe(ModelTrainedV1, (e) => void trained.push(e), { consumer: 'e2e__signals_trained' });
    await bus.subscribe(ModelAliasChangedV1, (e) => void aliasChanges.push(e), { consumer: 'e2e__signals_alias' });
    await bus.subscribe(ScoreComputedV1, (e) => void scored.push(e), { consumer: 'e2e__signals_scored' });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver(Object.entries(KEYS).map(([role, key]) => ({ role: role as 'operator', key }))),
      sampleDataDir: resolve(__dirname, '../../../data/sample'),
      featureSets: [...DEFAULT_FEATURE_SETS, LEAKY],
    });
    // Features of the sample are materialised by the features context after the first-boot load.
    expect(
      await waitFor(
        async () =>
          (await call('GET', '/features?set=core&symbol=QQQ&limit=1&from=2021-03-31', undefined, KEYS.viewer)).json()
            .items?.length === 1,
      ),
    ).toBe(true);
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let first: { id: string };
  let second: { id: string };

  it('trains through REST: walk-forward metrics per fold with baselines, leakage guard, ONNX artifact, lineage', async () => {
    expect(Object.keys(platform.services)).toContain('signals');
    const spec = {
      name: 'spy_qqq_5d_up',
      symbols: ['SPY', 'QQQ'],
      objective: 'binary',
      label: { horizon: 5, deadZone: 0.001 },
      walkForward: { folds: 3 },
      params: { numTrees: 20, maxLeaves: 7, learningRate: 0.1, minDataInLeaf: 50, seed: 1 },
    };
    const dto = await trainAndWait(spec);
    expect(dto.error).toBeNull();
    expect(dto).toMatchObject({
      status: 'completed',
      source: 'trained',
      objective: 'binary',
      // v2 (scale-free, point-in-time across splits) is the default for new models.
      featureSet: { name: 'core', version: 2, featureNames: [...CORE_V2_FEATURE_NAMES] },
    });
    expect(dto.metrics.folds).toHaveLength(3);
    for (const f of dto.metrics.folds) {
      expect(f.testRows).toBeGreaterThan(100);
      expect(f.auc).toBeGreaterThan(0.3);
      expect(f.auc).toBeLessThan(0.7);
      expect(f.baselines.majority).toBeDefined();
    }
    // Both guards ran and passed: label shuffle by blocks and the null world (features recomputed on permuted bars).
    expect(dto.metrics.leakageGuard).toMatchObject({
      passed: true,
      shuffledAuc: expect.any(Number),
      nullWorldAuc: expect.any(Number),
    });
    expect(dto.metrics.leakageGuard.detail).toMatch(/label-shuffle: .*; null-world: /);
    expect(dto.artifact).toMatchObject({
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      uri: expect.stringMatching(/^file:\/\//),
    });
    expect(dto.lineage).toMatchObject({
      featureSet: 'core@2',
      datasetHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      symbols: ['SPY', 'QQQ'],
    });
    expect(dto.lineage.rows).toBeGreaterThan(5000);
    expect(dto.importance).toHaveLength(22);
    first = dto;
    second = await trainAndWait({
      ...spec,
      name: 'spy_qqq_5d_up_b',
      params: { ...spec.params, seed: 2, featureFraction: 0.8 },
    });
    expect(second).toMatchObject({ status: 'completed' });
    expect(trained.map((e) => e.modelId)).toEqual(expect.arrayContaining([first.id, second.id]));
    const list = (await call('GET', '/signals/models?limit=1', undefined, KEYS.viewer)).json();
    expect(list.items).toHaveLength(1);
    expect(list.nextCursor).not.toBeNull();
    const page2 = (
      await call('GET', `/signals/models?limit=1&cursor=${encodeURIComponent(list.nextCursor)}`, undefined, KEYS.viewer)
    ).json();
    expect(page2.items[0].id).not.toBe(list.items[0].id);
  });

  it('a feature set that reads a later bar ends with leakage_detected and cannot be promoted (problem+json)', async () => {
    const leaky = await trainAndWait({
      name: 'spy_qqq_5d_up_leaky',
      featureSet: { name: 'leaky' },
      symbols: ['SPY', 'QQQ'],
      objective: 'binary',
      label: { horizon: 5, deadZone: 0.001 },
      walkForward: { folds: 3 },
      params: { numTrees: 20, maxLeaves: 7, learningRate: 0.1, minDataInLeaf: 50, seed: 1 },
    });
    expect(leaky).toMatchObject({
      status: 'failed',
      featureSet: { name: 'leaky', version: 1 },
      error: { reason: 'leakage_detected', detail: expect.stringMatching(/null-world/) },
      artifact: null,
    });
    const promote = await call('POST', `/signals/models/${leaky.id}/aliases/champion`);
    expect(promote.statusCode).toBe(409);
    expect(promote.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(promote.json()).toMatchObject({
      type: 'urn:strata:problem:model-not-ready',
      modelStatus: 'failed',
      detail: expect.stringContaining('leakage_detected'),
    });
  });

  it('promotes and rolls back the champion through REST, with the alias history and events', async () => {
    expect((await call('POST', '/signals/aliases/champion/rollback')).statusCode).toBe(409);
    expect(
      (await call('POST', `/signals/models/${first.id}/aliases/champion`, undefined, KEYS.viewer)).statusCode,
    ).toBe(403);
    expect((await call('POST', `/signals/models/${first.id}/aliases/captain`)).statusCode).toBe(400);
    expect((await call('POST', `/signals/models/${first.id}/aliases/champion`)).json()).toMatchObject({
      alias: 'champion',
      modelId: first.id,
    });
    expect((await call('POST', `/signals/models/${second.id}/aliases/champion`)).json()).toMatchObject({
      modelId: second.id,
    });
    expect(
      (await call('GET', '/signals/models?alias=champion', undefined, KEYS.viewer))
        .json()
        .items.map((m: { id: string }) => m.id),
    ).toEqual([second.id]);
    const back = await call('POST', '/signals/aliases/champion/rollback');
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ alias: 'champion', modelId: first.id });
    expect(back.json().history.map((h: { action: string; modelId: string }) => [h.action, h.modelId])).toEqual([
      ['promote', first.id],
      ['promote', second.id],
      ['rollback', first.id],
    ]);
    expect((await call('GET', `/signals/models/${first.id}`, undefined, KEYS.viewer)).json().aliases).toEqual([
      'champion',
    ]);
    expect(await waitFor(() => aliasChanges.length >= 3)).toBe(true);
    expect(aliasChanges.map((c) => c.action)).toEqual(['promote', 'promote', 'rollback']);
  });

  it('runs the ml_signal template as a backtest on the bus: the champion, point-in-time, look-ahead check passed', async () => {
    // Thresholds from the champion's own score distribution on SPY (stored features, ONNX runtime), so it trades.
    const all = (await call('POST', '/signals/score', { model: 'champion', symbol: 'SPY' })).json() as {
      ts: string[];
      scores: (number | null)[];
    };
    const sorted = all.scores.filter((x): x is number => x !== null).sort((a, b) => a - b);
    const enter = sorted[Math.floor(sorted.length * 0.6)];
    const exit = sorted[Math.floor(sorted.length * 0.4)];
    const strategy = await call('POST', '/strategies/from-template', {
      template: 'ml_signal',
      symbols: ['SPY'],
      params: { enter, exit },
    });
    expect(strategy.statusCode).toBe(201);
    const r = await call('POST', '/backtests', { strategyId: strategy.json().id, lookAheadCheck: { samples: 8 } });
    expect(r.statusCode).toBe(202);
    let dto = r.json();
    await waitFor(async () => {
      dto = (await call('GET', `/backtests/${dto.id}`, undefined, KEYS.viewer)).json();
      return ['completed', 'failed'].includes(dto.status);
    });
    expect(dto.error).toBeNull();
    expect(dto).toMatchObject({
      status: 'completed',
      result: {
        signalModels: { champion: { modelId: first.id, featureSet: 'core@v2' } },
        lookAhead: { passed: true },
      },
    });
    expect(dto.result.counts.trades).toBeGreaterThan(3);
    // Each entry was decided at the close of the bar before its fill, where the champion's stored-feature score
    // (computed by another path: feature store + onnxruntime) was above the threshold.
    const trades = (await call('GET', `/backtests/${dto.id}/trades?limit=1000`, undefined, KEYS.viewer)).json()
      .items as { entryTs: string }[];
    const at = new Map(all.ts.map((t, i) => [t, i]));
    for (const t of trades) {
      const fill = at.get(t.entryTs);
      expect(fill).toBeDefined();
      expect(all.scores[fill! - 1]).toBeGreaterThan(enter);
    }
  });

  it('scores raw rows and a stored series with the champion; they agree; bad rows get problem+json', async () => {
    const feats = (
      await call('GET', '/features?set=core&symbol=SPY&from=2021-03-01&to=2021-03-31&limit=100', undefined, KEYS.viewer)
    ).json().items as Record<string, unknown>[];
    expect(feats.length).toBeGreaterThan(15);
    const rows = feats.map(({ symbol: _s, ts: _t, ...f }) => f);
    const byRows = await call('POST', '/signals/score', { model: 'champion', rows });
    expect(byRows.statusCode).toBe(200);
    const series = await call('POST', '/signals/score', {
      model: first.id,
      symbol: 'SPY',
      from: '2021-03-01',
      to: '2021-03-31',
    });
    expect(series.statusCode).toBe(200);
    expect(series.json().ts).toHaveLength(feats.length);
    const a = byRows.json().scores as number[];
    const b = series.json().scores as number[];
    expect(byRows.json().modelId).toBe(first.id);
    a.forEach((p, i) => {
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
      expect(Math.abs(p - b[i])).toBeLessThan(1e-9);
    });
    const bad = await call('POST', '/signals/score', {
      model: 'champion',
      rows: [{ ...rows[0], rsi_14: undefined, foo: 1 }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'body.rows.0.rsi_14', reason: 'missing_feature' }),
        expect.objectContaining({ field: 'body.rows.0.foo', reason: 'unknown_feature' }),
      ]),
    );
    expect((await call('POST', '/signals/score', { model: 'challenger', rows })).statusCode).toBe(404);

    // TreeSHAP: per row, the contributions sum to the raw margin (logit of the probability) minus the expected value.
    const ex = await call('POST', '/signals/score', { model: 'champion', rows: rows.slice(0, 5), explain: true });
    expect(ex.statusCode).toBe(200);
    const { explanation, scores } = ex.json();
    expect(explanation.contributions).toHaveLength(5);
    explanation.contributions.forEach((c: Record<string, number>, i: number) => {
      expect(Object.keys(c)).toHaveLength(22);
      const sum = Object.values(c).reduce((x, y) => x + y, 0);
      expect(Math.abs(sum + explanation.expectedValue - Math.log(scores[i] / (1 - scores[i])))).toBeLessThan(1e-6);
    });
    expect(explanation.importance).toHaveLength(22);
    expect(explanation.importance[0].meanAbsShap).toBeGreaterThan(0);
    expect(explanation.importance.some((f: { gain: number }) => f.gain > 0)).toBe(true);
  });

  it('scores newly ingested bars with the champion, stores them and serves the latest score', async () => {
    expect((await call('GET', '/signals/SPY/latest', undefined, KEYS.viewer)).statusCode).toBe(404);
    const csv = [
      'timestamp,open,high,low,close,volume',
      '2021-04-01,397.0,400.7,396.1,400.6,99682900',
      '2021-04-05,403.5,406.9,403.0,406.4,91684800',
    ].join('\n');
    const r = await call('POST', '/market-data/ingest', { symbol: 'SPY', timeframe: '1d', csv });
    expect(r.statusCode).toBe(201);
    expect(await waitFor(() => scored.some((s) => s.symbol === 'SPY' && s.to.startsWith('2021-04-05')))).toBe(true);
    const latest = await call('GET', '/signals/SPY/latest', undefined, KEYS.viewer);
    expect(latest.statusCode).toBe(200);
    expect(latest.json()).toMatchObject({
      symbol: 'SPY',
      timeframe: '1d',
      modelId: first.id,
      alias: 'champion',
      ts: '2021-04-05T00:00:00.000Z',
    });
    const direct = (
      await call('POST', '/signals/score', { model: first.id, symbol: 'SPY', from: '2021-04-05', to: '2021-04-05' })
    ).json();
    expect(latest.json().score).toBeCloseTo(direct.scores[0], 12);
  });

  it('imports an external LightGBM model for the core set and refuses one that does not fit', async () => {
    const fixture = resolve(__dirname, '../../../libs/signals/infra-onnx/src/testing/fixtures');
    const onnxBase64 = readFileSync(join(fixture, 'lightgbm-core-v1.onnx')).toString('base64');
    const imp = await call('POST', '/signals/models/import', {
      name: 'lgbm_external',
      featureSet: { name: 'core', version: 1 },
      onnxBase64,
    });
    expect(imp.statusCode).toBe(201);
    expect(imp.json()).toMatchObject({ status: 'completed', source: 'imported', objective: 'binary' });
    const fx = JSON.parse(readFileSync(join(fixture, 'lightgbm-core-v1.predictions.json'), 'utf8')) as {
      featureNames: string[];
      rows: (number | null)[][];
      probability: number[];
    };
    const rows = fx.rows.slice(0, 20).map((r) => Object.fromEntries(fx.featureNames.map((n, j) => [n, r[j]])));
    const s = (await call('POST', '/signals/score', { model: imp.json().id, rows })).json();
    s.scores.forEach((p: number, i: number) => expect(Math.abs(p - fx.probability[i])).toBeLessThan(1e-5));
    // External models carry no training covers: TreeSHAP is refused, not guessed.
    const ex = await call('POST', '/signals/score', { model: imp.json().id, rows: rows.slice(0, 1), explain: true });
    expect(ex.statusCode).toBe(422);
    expect(ex.json().type).toBe('urn:strata:problem:explanation-unavailable');
    // A regression model over 3 features is not a core v1 model.
    const { exportTreeEnsembleToOnnx } = await import('@strata/signals-infra-onnx');
    const { randomEnsemble } = await import('@strata/signals-infra-onnx/testing');
    const small = exportTreeEnsembleToOnnx(
      randomEnsemble({
        seed: 1,
        objective: 'regression',
        nFeatures: 3,
        nTrees: 2,
        leaves: 3,
        thresholdPool: Float64Array.of(0, 1),
      }),
    );
    const rej = await call('POST', '/signals/models/import', {
      name: 'wrong',
      onnxBase64: Buffer.from(small).toString('base64'),
    });
    expect(rej.statusCode).toBe(422);
    expect(rej.json().errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'graph.input[0].shape[1]' })]),
    );
  });
});
