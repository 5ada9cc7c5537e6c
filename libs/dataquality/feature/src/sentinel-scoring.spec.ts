/**
 * Streaming scoring against the real stores (DuckDB bars, embedded documents, bar-quality flags, in-process bus):
 * scoring the whole SPY sample (5,849 bars, planted bad ticks) in batches of 500 finds exactly what one pass of the
 * domain scorer over the whole series finds; rescoring stores and publishes nothing twice; a range in the middle of
 * history is scored with its context.
 */
import { AnomalyDetectedV1, type AnomalyDetected } from '@strata/dataquality-contracts';
import { type DocumentStore } from '@strata/platform-contracts';
import { scoreBars, type BarAnomaly } from '@strata/dataquality-domain';
import { inferTradingCalendar } from '@strata/shared-timeseries';
import { parseBarsCsv } from '@strata/marketdata-domain';
import { InProcessEventBus } from '@strata/platform-bus';
import { DuckDbBarQualityFlagsStore } from '@strata/dataquality-infra-duckdb';
import { DuckDbBarsRepository } from '@strata/marketdata-infra-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { openDuckDb, type DuckDb } from '@strata/platform-duckdb';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataQualityEventId, DataQualityEventsRepository } from './data-quality-events.repository';
import { SentinelScoringService } from './sentinel-scoring.service';

jest.setTimeout(120_000);

const TICKS = [1000, 2500, 4000, 5500];

function plantedSpy() {
  const lines = readFileSync(resolve(__dirname, '../../../../data/sample/SPY_1d.csv'), 'utf8').trim().split('\n');
  for (const i of TICKS) {
    const [ts, open, high, low, close, volume] = lines[i + 1].split(',');
    const bad = Math.round(Number(close) * 1.4 * 100) / 100;
    lines[i + 1] = [ts, open, Math.max(Number(high), bad), low, bad, volume].join(',');
  }
  return parseBarsCsv(lines.join('\n')).bars;
}

const key = (a: Pick<BarAnomaly, 'ts' | 'kind'>) => `${new Date(a.ts).toISOString()}|${a.kind}`;

describe('SentinelScoringService (streaming batches)', () => {
  let dir: string;
  let db: DuckDb;
  let store: DocumentStore;
  let bus: InProcessEventBus;
  let bars: DuckDbBarsRepository;
  let flags: DuckDbBarQualityFlagsStore;
  let events: DataQualityEventsRepository;
  const published: AnomalyDetected[] = [];
  const series = plantedSpy();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-dq-'));
    const path = join(dir, 'strata.duckdb');
    db = await openDuckDb(path);
    store = await DuckDbDocumentStore.open(path);
    bus = new InProcessEventBus({ service: 'test' });
    await bus.subscribe(AnomalyDetectedV1, (d) => void published.push(d), { consumer: 'test__anomalies' });
    bars = new DuckDbBarsRepository(db);
    flags = new DuckDbBarQualityFlagsStore(db);
    events = new DataQualityEventsRepository(store);
    await store.ready();
    await bars.commit({ ingestionId: 'ing-spy', symbol: 'SPY', timeframe: '1d', bars: series });
  });
  afterAll(async () => {
    await bus.close();
    await store.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const service = (batchBars: number) => new SentinelScoringService(bars, events, bus, flags, { batchBars });
  const waitPublished = async (n: number) => {
    const end = Date.now() + 10_000;
    while (published.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  };

  it('batches of 500 find exactly what one pass over the whole series finds, and store / flag / publish each once', async () => {
    const onePass = scoreBars({
      bars: series,
      firstNew: 0,
      timeframe: '1d',
      symbol: 'SPY',
      calendar: inferTradingCalendar(series.ts),
    });
    expect(onePass.anomalies.length).toBeGreaterThan(TICKS.length);
    for (const i of TICKS)
      expect(
        onePass.anomalies.some((a) => a.ts === series.ts[i] && (a.severity === 'HIGH' || a.severity === 'CRITICAL')),
      ).toBe(true);

    const out = await service(500).scoreRange('SPY', '1d', series.ts[0], series.ts[series.length - 1], {
      ingestionId: 'ing-spy',
    });
    expect(out).toMatchObject({ scoredBars: series.length, batches: Math.ceil(series.length / 500) });
    expect(out.stored).toBe(onePass.anomalies.length);
    expect(out.published).toBe(onePass.anomalies.length);

    const stored = (await events.page({ symbol: 'SPY' }, { limit: 1000 })).items;
    expect(stored.map((d) => `${d.barTs}|${d.kind}`).sort()).toEqual(onePass.anomalies.map(key).sort());
    const byKey = new Map(onePass.anomalies.map((a) => [key(a), a]));
    for (const d of stored) {
      const a = byKey.get(`${d.barTs}|${d.kind}`)!;
      expect(d).toMatchObject({
        id: dataQualityEventId('SPY', '1d', a.ts, a.kind),
        severity: a.severity,
        combined: a.combined,
        reason: a.reason,
        scores: a.scores,
        status: 'open',
        published: true,
      });
      expect(d.modelVersions).toEqual(onePass.modelVersions);
    }
    await waitPublished(stored.length);
    expect(published.map((p) => p.id).sort()).toEqual(stored.map((d) => d.id).sort());
    const f = await flags.read({ symbol: 'SPY', timeframe: '1d' });
    expect(f.map((x) => `${new Date(x.ts).toISOString()}|${x.kind}`).sort()).toEqual(onePass.anomalies.map(key).sort());
  });

  it('rescoring (a redelivered event, an overlapping batch size) stores and publishes nothing twice', async () => {
    const n = published.length;
    const again = await service(777).scoreRange('SPY', '1d', series.ts[0], series.ts[series.length - 1], {
      ingestionId: 'ing-spy',
    });
    expect(again).toMatchObject({ stored: 0, published: 0, scoredBars: series.length });
    await new Promise((r) => setTimeout(r, 100));
    expect(published.length).toBe(n);
    expect(await events.count({ symbol: 'SPY' })).toBe(n);
  });

  it('scores a range in the middle of history with its context and the bar after it', async () => {
    await bars.commit({ ingestionId: 'ing-spy2', symbol: 'SPY2', timeframe: '1d', bars: series });
    const onePass = scoreBars({ bars: series, firstNew: 0, timeframe: '1d', symbol: 'SPY2', calendar: 'nyse' });
    const i0 = TICKS[1] - 3;
    const i1 = TICKS[1];
    // The planted tick is the last bar of the range: its revert is decided by the stored bar after it.
    const out = await service(5000).scoreRange('SPY2', '1d', series.ts[i0], series.ts[i1], { ingestionId: 'ing-mid' });
    expect(out.scoredBars).toBe(i1 - i0 + 1);
    const stored = (await events.page({ symbol: 'SPY2' }, { limit: 1000 })).items
      .map((d) => `${d.barTs}|${d.kind}`)
      .sort();
    // Decided by the arrival of bars i0 … i1 + 1: findings of bars i0 − 1 … i1 (+ on-arrival rules of i1 + 1).
    const decided = onePass.anomalies.filter((a) => a.index >= i0 - 1 && a.index <= i1).map(key);
    expect(decided).toContain(
      `${new Date(series.ts[i1]).toISOString()}|${onePass.anomalies.find((a) => a.index === i1)!.kind}`,
    );
    expect(stored).toEqual(expect.arrayContaining(decided));
    const allowed = new Set(onePass.anomalies.filter((a) => a.index >= i0 - 1 && a.index <= i1 + 1).map(key));
    for (const k of stored) expect(allowed.has(k)).toBe(true);
  });
});
