import {
  DEFAULT_SENTINEL_CONFIG,
  mergeSentinelConfig,
  sentinelConfigFromJson,
  severityAtLeast,
  severityOfScore,
  symbolClassOf,
} from './sentinel.config';

describe('mergeSentinelConfig', () => {
  it('returns the defaults for an empty override and merges nested fields', () => {
    expect(mergeSentinelConfig({})).toEqual(DEFAULT_SENTINEL_CONFIG);
    const c = mergeSentinelConfig({
      forest: { trees: 50 },
      classes: { crypto: { thresholds: { LOW: 0.4, MEDIUM: 0.6, HIGH: 0.8, CRITICAL: 0.9 } } },
    });
    expect(c.forest.trees).toBe(50);
    expect(c.forest.subsample).toBe(256);
    expect(c.classes.crypto.thresholds.LOW).toBe(0.4);
    expect(c.classes.crypto.calendar).toBe('24x7');
    expect(DEFAULT_SENTINEL_CONFIG.forest.trees).toBe(100); // defaults untouched
  });

  it('names every bad field and why', () => {
    expect(() =>
      mergeSentinelConfig({ forest: { trees: 0 }, weights: { isolationForest: 0.9 }, bogus: 1 } as never),
    ).toThrow(
      'invalid sentinel config: bogus: unknown field; forest.trees: must be an integer in [1, 10000]; weights: isolationForest + forecastResidual must sum to 1',
    );
    expect(() => mergeSentinelConfig({ classes: { equity: { thresholds: { LOW: 0.9 } } } } as never)).toThrow(
      /classes.equity.thresholds.MEDIUM: thresholds must increase/,
    );
  });

  it('parses env JSON', () => {
    expect(sentinelConfigFromJson(undefined)).toEqual(DEFAULT_SENTINEL_CONFIG);
    expect(sentinelConfigFromJson('{"windowBars": 30}').windowBars).toBe(30);
    expect(() => sentinelConfigFromJson('{oops')).toThrow(/invalid sentinel config: \(json\)/);
    expect(() => sentinelConfigFromJson('[1]')).toThrow(/must be a JSON object/);
  });
});

describe('symbolClassOf', () => {
  it.each([
    ['BTCUSD', 'crypto'],
    ['eth-usdt', 'crypto'],
    ['SOL/USD', 'crypto'],
    ['EURUSD', 'fx'],
    ['USD/JPY', 'fx'],
    ['AAPL', 'equity'],
    ['SPY', 'equity'],
  ])('%s → %s', (s, c) => expect(symbolClassOf(s)).toBe(c));
  it('prefers overrides', () => expect(symbolClassOf('GBTC', { GBTC: 'crypto' })).toBe('crypto'));
});

describe('severity helpers', () => {
  it('orders the ladder and maps scores through thresholds', () => {
    expect(severityAtLeast('CRITICAL', 'HIGH')).toBe(true);
    expect(severityAtLeast('MEDIUM', 'HIGH')).toBe(false);
    expect(severityAtLeast('LOW', 'LOW')).toBe(true);
    const t = DEFAULT_SENTINEL_CONFIG.classes.equity.thresholds;
    expect(severityOfScore(0.49, t)).toBeNull();
    expect(severityOfScore(0.5, t)).toBe('LOW');
    expect(severityOfScore(0.8, t)).toBe('HIGH');
    expect(severityOfScore(0.99, t)).toBe('CRITICAL');
  });
});
