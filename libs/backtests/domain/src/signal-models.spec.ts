import { computeCoreFeatures } from '@strata/shared-indicators';
import { signalModelScores, treeSignalModel, type Tree, type TreeEnsemble } from '@strata/signals-domain';
import { runBacktest } from './backtest';
import type { BacktestData } from './backtest-data';
import { checkLookAhead } from './lookahead';
import type { SignalModel } from '@strata/backtests-contracts';
import { signalNamesOf } from './signal-models';
import { StrategyDefinitionError } from './strategy-validation';
import { execution, sampleBars } from './testing/fixtures';
import { instantiateTemplate, strategyTemplate } from './templates';

/** A one-split tree: `feature <= threshold` → `left`, else `right`; missing → left. */
function stump(feature: number, threshold: number, left: number, right: number): Tree {
  return {
    splitFeature: Int32Array.of(feature),
    threshold: Float64Array.of(threshold),
    defaultLeft: Uint8Array.of(1),
    left: Int32Array.of(~0),
    right: Int32Array.of(~1),
    gain: Float64Array.of(1),
    internalCover: Float64Array.of(2),
    leafValue: Float64Array.of(left, right),
    leafCover: Float64Array.of(1, 1),
  };
}

/** Oversold and falling → up: rsi_14 ≤ 40 adds +0.6, ret_20 ≤ −0.02 adds +0.3, otherwise −0.2 each. */
const model: TreeEnsemble = {
  objective: 'binary',
  featureNames: ['rsi_14', 'ret_20'],
  baseScore: 0.05,
  trees: [stump(0, 40, 0.6, -0.2), stump(1, -0.02, 0.3, -0.2)],
};
const champion: SignalModel = treeSignalModel('model-1', 'core', model);
const sigmoid = (m: number) => 1 / (1 + Math.exp(-m));

describe('signal models', () => {
  it('scores rows by hand-worked margins and leaves incomplete rows NaN', () => {
    const cols: Record<string, Float64Array> = {
      rsi_14: Float64Array.of(NaN, 30, 40, 41, 70),
      ret_20: Float64Array.of(0.1, -0.05, -0.02, NaN, 0.01),
    };
    const p = signalModelScores(model, (f) => cols[f], 5);
    expect(p[0]).toBeNaN();
    expect(p[1]).toBeCloseTo(sigmoid(0.05 + 0.6 + 0.3), 15);
    expect(p[2]).toBeCloseTo(sigmoid(0.05 + 0.6 + 0.3), 15); // equal to the threshold goes left
    expect(p[3]).toBeNaN();
    expect(p[4]).toBeCloseTo(sigmoid(0.05 - 0.2 - 0.2), 15);
  });

  it('finds every signal name of a definition', () => {
    const d = instantiateTemplate(strategyTemplate('ml_signal')!);
    expect(signalNamesOf(d)).toEqual(['champion']);
    expect(signalNamesOf(instantiateTemplate(strategyTemplate('sma_crossover')!))).toEqual([]);
  });

  describe('the ml_signal template on real SPY bars', () => {
    const SPY = sampleBars('SPY');
    const data: BacktestData = { timeframe: '1d', symbols: [SPY] };
    const definition = instantiateTemplate(strategyTemplate('ml_signal')!);
    const base = { definition, data, initialCapital: 100_000, execution: execution() };

    it('trades on the model scored from core features computed independently of the engine', () => {
      const withModel = runBacktest({ ...base, signalModels: { champion } });
      // The same probabilities computed here from the feature kernels and the hand formula, given as an external series.
      const f = computeCoreFeatures(SPY, { timeframe: '1d', calendar: 'us-equity' }) as Record<string, Float64Array>;
      const p = new Float64Array(SPY.ts.length);
      for (let i = 0; i < p.length; i++) {
        const r = f.rsi_14[i];
        const q = f.ret_20[i];
        p[i] = r !== r || q !== q ? NaN : sigmoid(0.05 + (r <= 40 ? 0.6 : -0.2) + (q <= -0.02 ? 0.3 : -0.2));
      }
      const external = runBacktest({
        ...base,
        data: { timeframe: '1d', symbols: [{ ...SPY, external: { 'signal:champion': p } }] },
      });
      expect(withModel.trades.length).toBeGreaterThan(5);
      expect(withModel.fingerprint).toBe(external.fingerprint);
    });

    it('passes the look-ahead check: scores at t read features, and so bars, up to t only', () => {
      const report = checkLookAhead({ ...base, signalModels: { champion } }, { samples: 12 });
      expect(report).toMatchObject({ passed: true, changedDecisionPoints: 0, decisionPointsChecked: 12 });
    });

    it('refuses to run without a model for the alias', () => {
      expect(() => runBacktest(base)).toThrow(StrategyDefinitionError);
    });
  });
});
