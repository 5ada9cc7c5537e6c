import type { BacktestSignalModels } from '@strata/backtests-contracts';
import { treeSignalModel } from '@strata/signals-domain';
import { type ModelAlias } from '@strata/signals-contracts';
import { AliasUnsetError } from './signals.errors';
import type { SignalScoringService } from './signal-scoring.service';

/**
 * The model registry as the backtest worker's {@link BacktestSignalModels}: an alias resolves to the completed model
 * version holding it, decoded from its ONNX artifact into the tree ensemble the engine scores on the fly ({@link treeSignalModel}). The
 * feature set is named `core` for `core` v1 and `<name>@v<version>` otherwise: the engine computes `core` and
 * `core@v2` itself and refuses any other with a clear reason.
 * `scoring` is a getter because the signals context may start after the backtests context.
 */
export function registrySignalModels(scoring: () => SignalScoringService): BacktestSignalModels {
  return {
    async resolve(alias) {
      let m;
      try {
        m = await scoring().resolve(alias as ModelAlias);
      } catch (e) {
        if (e instanceof AliasUnsetError) return null;
        throw e;
      }
      const ensemble = m.scorer.info.ensemble;
      if (!ensemble) throw new Error(`model ${m.doc.id} is not a tree ensemble the backtest engine can score`);
      const fs = m.doc.featureSet;
      // `core` v1 is `core` to the engine; every other version is `<name>@v<version>` (`core@v2` it computes too).
      const featureSet = fs.name === 'core' && fs.version === 1 ? fs.name : `${fs.name}@v${fs.version}`;
      return treeSignalModel(m.doc.id, featureSet, ensemble);
    },
  };
}
