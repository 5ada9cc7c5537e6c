import { AlphaVantageClient } from './alphavantage.client';
import { parseDailyAdjusted, splitRatioToShares } from './alphavantage.parser';
import { AlphaVantageIngestSource } from './alphavantage.source';
import { AlphaVantageReplayServer, fixture } from './testing/alphavantage-replay.server';

describe('Alpha Vantage ingest source', () => {
  it('turns split coefficients into share ratios, reverse splits included', () => {
    expect(splitRatioToShares(4)).toEqual({ newShares: 4, oldShares: 1 });
    expect(splitRatioToShares(0.1)).toEqual({ newShares: 1, oldShares: 10 });
    expect(splitRatioToShares(1.5)).toEqual({ newShares: 3, oldShares: 2 });
    expect(splitRatioToShares(0.125)).toEqual({ newShares: 1, oldShares: 8 });
    expect(parseDailyAdjusted(fixture('daily-adjusted-aapl.json'), { symbol: 'AAPL' }).corporateActions).toEqual(
      expect.arrayContaining([
        { kind: 'split', symbol: 'AAPL', exDate: '2020-08-31', newShares: 4, oldShares: 1 },
        { kind: 'dividend', symbol: 'AAPL', exDate: '2020-08-07', amount: 0.82 },
      ]),
    );
  });

  describe('against the replay server', () => {
    let server: AlphaVantageReplayServer;
    let source: AlphaVantageIngestSource;
    beforeEach(async () => {
      server = new AlphaVantageReplayServer();
      const baseUrl = await server.start();
      source = new AlphaVantageIngestSource(new AlphaVantageClient({ apiKey: 'k', baseUrl, retry: { maxRetries: 0 } }));
    });
    afterEach(() => server.stop());

    it('daily_adjusted: rows with adj_close plus the corporate actions; intraday: the interval must match the timeframe', async () => {
      server.enqueue({ body: fixture('daily-adjusted-aapl.json') });
      const out = await source.fetch('AAPL', '1d', {
        kind: 'alphavantage',
        function: 'daily_adjusted',
        outputsize: 'full',
      });
      expect(out.rows.columns.join(',')).toBe('timestamp,open,high,low,close,volume,adj_close');
      expect(out.rows.length).toBe(6);
      expect(out.corporateActions).toEqual(
        expect.arrayContaining([{ kind: 'split', symbol: 'AAPL', exDate: '2020-08-31', newShares: 4, oldShares: 1 }]),
      );
      expect(server.received[0].params).toMatchObject({ function: 'TIME_SERIES_DAILY_ADJUSTED', outputsize: 'full' });
      await expect(
        source.fetch('IBM', '1h', { kind: 'alphavantage', function: 'intraday', interval: '5min' }),
      ).rejects.toThrow(RangeError);
      await expect(source.fetch('IBM', '1d', { kind: 'alphavantage', function: 'intraday' })).rejects.toThrow(
        /needs an interval/,
      );
      await expect(source.fetch('IBM', '1h', { kind: 'alphavantage', function: 'daily_adjusted' })).rejects.toThrow(
        RangeError,
      );
      expect(server.received).toHaveLength(1);
      server.enqueue({ body: fixture('intraday-ibm-5min.json') });
      const intra = await source.fetch('IBM', '5m', { kind: 'alphavantage', function: 'intraday', interval: '5min' });
      expect(intra.corporateActions).toEqual([]);
      expect(intra.rows.columns.join(',')).toBe('timestamp,open,high,low,close,volume');
    });
  });
});
