import {
  MarketDataNotFoundError,
  type BarColumns,
  type MarketDataReader,
  type CorporateAction,
} from '@strata/marketdata-contracts';

type SplitAction = Extract<CorporateAction, { kind: 'split' }>;
import { sampleActions, sampleBars, type MarketDataFixture } from './market-data.fixture';

/** What a conformance run gets from the adapter under test. */
export interface MarketDataReaderHarness {
  /** The adapter under test. */
  reader: MarketDataReader;
  /** The data behind it (writes go through its tracked stores). */
  fixture: MarketDataFixture;
  /** Where the last read's window came from, when the adapter can tell (`inline`, `memory`, `disk`, `store`). */
  lastSource?: () => string | undefined;
}

const DAY = 86_400_000;

/** Total-adjusted bars computed here from the raw file and the splits (the oracle; no code under test involved). */
function splitAdjusted(raw: BarColumns, splits: readonly SplitAction[]): { close: Float64Array; volume: Float64Array } {
  const close = new Float64Array(raw.length);
  const volume = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    let f = 1;
    for (const s of splits) if (raw.ts[i] < Date.parse(`${s.exDate}T00:00:00Z`)) f *= s.newShares / s.oldShares;
    close[i] = raw.close[i] / f;
    volume[i] = raw.volume[i] * f;
  }
  return { close, volume };
}

function expectClose(actual: Float64Array, expected: Float64Array, rel = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1e-12, Math.abs(expected[i])));
  expect(worst).toBeLessThanOrEqual(rel);
}

function expectSame(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  let diff = -1;
  for (let i = 0; i < actual.length && diff < 0; i++) if (!Object.is(actual[i], expected[i])) diff = i;
  expect(diff).toBe(-1);
}

/**
 * The ONE conformance suite of the `MarketDataReader` port, run against every adapter (in process: unit spec;
 * over NATS: int-spec) on the same real data (`openMarketDataFixture`: AAPL daily bars from `data/sample` with its
 * four splits, `core` v1 features, three quality flags). Checks bars raw and total-adjusted against an oracle computed
 * from the file, paging, feature windows of a set version with as-of joins and the quality filter, flags, a window
 * above the inline limit read twice (snapshot and cached path), that a write is visible to the next read, and the
 * not-found errors (and the correction audit a write leaves).
 */
export function describeMarketDataReaderConformance(name: string, open: () => Promise<MarketDataReaderHarness>): void {
  describe(`MarketDataReader conformance: ${name}`, () => {
    let h: MarketDataReaderHarness;
    const raw = sampleBars('AAPL');
    const splits = sampleActions('AAPL') as SplitAction[];

    beforeAll(async () => {
      h = await open();
    });

    it('reads raw bars exactly as in the file', async () => {
      const { bars, adjustment } = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'raw' });
      expect(bars.length).toBe(raw.length);
      for (const k of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) expectSame(bars[k], raw[k]);
      expect(adjustment.adjust).toBe('raw');
      expect(adjustment.steps).toEqual([]);
    });

    it('reads total-adjusted bars: every recorded split divides earlier prices and multiplies earlier volume', async () => {
      const { bars, adjustment } = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d' });
      const want = splitAdjusted(raw, splits);
      expect(adjustment.adjust).toBe('total');
      expect(adjustment.actions.map((a) => a.exDate)).toEqual(splits.map((s) => s.exDate).sort());
      expectClose(bars.close, want.close);
      expectClose(bars.volume, want.volume);
      // 2020-08-31 4:1 split: the close before it, adjusted, is a quarter of the raw one.
      const i = raw.ts.findIndex((t) => t >= Date.parse('2020-08-31T00:00:00Z')) - 1;
      expect(bars.close[i]).toBeCloseTo(raw.close[i] / 4, 10);
      expect(bars.close[i + 1]).toBe(raw.close[i + 1]);
    });

    it('pages a window with from / to (inclusive) and the after cursor; pages fit together', async () => {
      const from = raw.ts[1000];
      const to = raw.ts[3499];
      const pages: BarColumns[] = [];
      let after: number | undefined;
      for (;;) {
        const { bars } = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', from, to, after, limit: 700 });
        if (!bars.length) break;
        pages.push(bars);
        after = bars.ts[bars.length - 1];
      }
      expect(pages.map((p) => p.length)).toEqual([700, 700, 700, 400]);
      const ts = Float64Array.from(pages.flatMap((p) => Array.from(p.ts)));
      expectSame(ts, raw.ts.slice(1000, 3500));
      const whole = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', from, to });
      expectSame(Float64Array.from(pages.flatMap((p) => Array.from(p.close))), whole.bars.close);
    });

    it('reads features of the latest and of an explicit set version, equal to the stored values', async () => {
      const from = raw.ts[3000];
      const to = raw.ts[3999];
      const latest = await h.reader.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core', from, to });
      expect(latest.definition.name).toBe('core');
      expect(latest.definition.version).toBe(1);
      expect(Object.keys(latest.columns)).toEqual(latest.definition.features.map((f) => f.name));
      const stored = await h.fixture.features.read({
        set: 'core',
        version: 1,
        symbol: 'AAPL',
        timeframe: '1d',
        from,
        to,
      });
      expectSame(latest.ts, stored.ts);
      expect(latest.ts.length).toBe(1000);
      for (const f of Object.keys(stored.columns)) expectSame(latest.columns[f], stored.columns[f]);
      const v1 = await h.reader.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core', version: 1, from, to });
      expectSame(v1.ts, latest.ts);
      expect((await h.reader.listFeatureSetVersions('core')).map((v) => v.version)).toEqual([1]);
      expect(await h.reader.listFeatureSetVersions('nope')).toEqual([]);
    });

    it('joins features as of event times: only bars closed by then, never the bar still open', async () => {
      const t = raw.ts[3000];
      const events = Float64Array.of(t + DAY, t + DAY - 1, t + 3_600_000, raw.ts[0] - 1);
      const w = await h.reader.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core', asOf: events });
      expect(Array.from(w.ts)).toEqual([t, raw.ts[2999], raw.ts[2999], NaN]);
      const stored = await h.fixture.features.asOf({
        set: 'core',
        version: 1,
        symbol: 'AAPL',
        timeframe: '1d',
        eventTimes: events,
      });
      for (const f of Object.keys(stored.columns)) expectSame(w.columns[f], stored.columns[f]);
    });

    it('reads flags and leaves out flagged bars with qualityFilter "exclude" (resolved flags do not count)', async () => {
      const all = await h.reader.getQualityFlags({ symbol: 'AAPL', timeframe: '1d' });
      const { flagged } = h.fixture;
      expect(all.map((f) => [f.ts, f.kind, f.eventId, f.severity, f.status])).toEqual([
        [flagged.open, 'bad_tick', 'ev-open', 'HIGH', 'open'],
        [flagged.acknowledged, 'spike', 'ev-ack', 'MEDIUM', 'acknowledged'],
        [flagged.resolved, 'gap', 'ev-resolved', 'LOW', 'resolved'],
      ]);
      const open = await h.reader.getQualityFlags({ symbol: 'AAPL', timeframe: '1d', statuses: ['open'] });
      expect(open.map((f) => f.eventId)).toEqual(['ev-open']);
      const from = raw.ts[3950];
      const to = raw.ts[4249];
      const kept = await h.reader.getFeatures({
        symbol: 'AAPL',
        timeframe: '1d',
        set: 'core',
        from,
        to,
        qualityFilter: 'exclude',
      });
      expect(kept.ts.length).toBe(298);
      expect(Array.from(kept.ts)).not.toContain(flagged.open);
      expect(Array.from(kept.ts)).not.toContain(flagged.acknowledged);
      expect(Array.from(kept.ts)).toContain(flagged.resolved);
    });

    it('reads a window above the inline limit, twice (snapshot, then cached), the same both times', async () => {
      const first = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'total' });
      const firstSource = h.lastSource?.();
      const second = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'total' });
      const secondSource = h.lastSource?.();
      expect(first.bars.length).toBe(raw.length);
      expectSame(second.bars.close, first.bars.close);
      expectClose(second.bars.close, splitAdjusted(raw, splits).close);
      if (firstSource !== undefined) {
        expect(firstSource).not.toBe('inline');
        expect(secondSource).toBe('memory');
      }
    });

    it('shows a write at the next read: a corrected bar and a new flag (no stale window or snapshot)', async () => {
      const before = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'raw' });
      const last = raw.length - 1;
      const corrected: BarColumns = {
        length: 1,
        ts: raw.ts.slice(last),
        open: raw.open.slice(last),
        high: Float64Array.of(raw.high[last] + 1),
        low: raw.low.slice(last),
        close: Float64Array.of(raw.close[last] + 0.5),
        volume: raw.volume.slice(last),
        adjClose: null,
      };
      await h.fixture.bars.commit({ ingestionId: 'conformance-fix', symbol: 'AAPL', timeframe: '1d', bars: corrected });
      const after = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'raw' });
      expect(before.bars.close[last]).toBe(raw.close[last]);
      expect(after.bars.close[last]).toBe(raw.close[last] + 0.5);
      const audits = await h.reader.listCorrections({ symbol: 'AAPL', timeframe: '1d', limit: 10 });
      expect(audits.map((a) => [Date.parse(a.ts), a.old.close, a.new.close, a.ingestionId])).toEqual([
        [raw.ts[last], raw.close[last], raw.close[last] + 0.5, 'conformance-fix'],
      ]);
      expect(await h.reader.listCorrections({ symbol: 'SPY', timeframe: '1d', limit: 10 })).toEqual([]);
      await h.fixture.flags.upsert([
        {
          symbol: 'AAPL',
          timeframe: '1d',
          ts: raw.ts[last],
          kind: 'correction',
          eventId: 'ev-new',
          severity: 'LOW',
          status: 'open',
        },
      ]);
      const flags = await h.reader.getQualityFlags({ symbol: 'AAPL', timeframe: '1d' });
      expect(flags.map((f) => f.eventId)).toContain('ev-new');
    });

    it('lists stored series', async () => {
      const series = await h.reader.listSeries({ limit: 10 });
      expect(series.map((s) => `${s.symbol} ${s.timeframe}`)).toEqual(['AAPL 1d', 'SPY 1d']);
      expect(series[0].bars).toBe(raw.length);
    });

    it('rejects an unknown series, set or version with MarketDataNotFoundError; an empty window is no error', async () => {
      await expect(h.reader.getBars({ symbol: 'NOPE', timeframe: '1d' })).rejects.toBeInstanceOf(
        MarketDataNotFoundError,
      );
      await expect(h.reader.getBars({ symbol: 'AAPL', timeframe: '1h' })).rejects.toBeInstanceOf(
        MarketDataNotFoundError,
      );
      await expect(h.reader.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'nope' })).rejects.toBeInstanceOf(
        MarketDataNotFoundError,
      );
      await expect(
        h.reader.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core', version: 9 }),
      ).rejects.toBeInstanceOf(MarketDataNotFoundError);
      await expect(h.reader.getFeatures({ symbol: 'NOPE', timeframe: '1d', set: 'core' })).rejects.toBeInstanceOf(
        MarketDataNotFoundError,
      );
      await expect(h.reader.getQualityFlags({ symbol: 'NOPE', timeframe: '1d' })).rejects.toBeInstanceOf(
        MarketDataNotFoundError,
      );
      const empty = await h.reader.getBars({ symbol: 'AAPL', timeframe: '1d', from: 0, to: 1000 });
      expect(empty.bars.length).toBe(0);
      expect((await h.reader.getQualityFlags({ symbol: 'SPY', timeframe: '1d' })).length).toBe(0);
    });
  });
}
