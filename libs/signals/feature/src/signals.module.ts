import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { FeatureSetRefreshedHandler } from './feature-set-refreshed.handler';
import { SignalAliasesRepository } from './signal-aliases.repository';
import { SignalModelsRepository } from './signal-models.repository';
import { SignalScoresRepository } from './signal-scores.repository';
import { SignalScoringService } from './signal-scoring.service';
import { SignalsController } from './signals.controller';
import { ARTIFACT_STORE, type ArtifactStore } from '@strata/platform-contracts';
import { SIGNAL_MODEL_RUNTIME, type SignalModelRuntime } from './signals.ports';
import { SignalsService } from './signals.service';
import { SignalsTrainController, SignalsTrainWorker, type SignalsWorkerOptions } from './signals-train.worker';
import { SIGNALS_WORKER_OPTIONS } from './signals.tokens';

/**
 * What {@link SignalsModule} needs. `DOCUMENT_STORE` and `EVENT_BUS` must be global and the market-data capability
 * available (`MarketDataModule`, for the training labels).
 */
export interface SignalsModuleOptions {
  /**
   * The feature store's read side, training datasets and series scores are read from: a module providing
   * `FEATURE_READER` of `@strata/features-contracts` (the features capability's
   * `FeaturesModule.register({ store, http: false, refresh: false, qualityFlags })`; give it the bar-quality flags for
   * training specs with `qualityFilter: 'exclude'`, which are refused otherwise).
   */
  features: DynamicModule;
  /** Where ONNX artifacts go (`LocalDirectoryArtifactStore` under `<STRATA_DATA_DIR>/artifacts` by default). */
  artifacts: ArtifactStore;
  /** ONNX export / import check / onnxruntime sessions (`OnnxModelRuntime` of `@strata/signals-infra-onnx`). */
  runtime: SignalModelRuntime;
  /** Serve `/signals` (default true). */
  http?: boolean;
  /** Train here: consume the `signals.cmd.train.v1` work queue and run the recovery sweep (default false). */
  worker?: boolean | SignalsWorkerOptions;
  /** Score refreshed bars with the champion on `features.evt.set.refreshed.v1` (default false; `signalsService`'s `score` part). */
  scoreOnRefresh?: boolean;
}

/**
 * The signals capability: model registry (documents), aliases, scoring with cached onnxruntime sessions, and, as
 * configured, the REST API, the training worker and the champion scoring of refreshed feature sets.
 */
@Module({})
export class SignalsModule {
  static register(opts: SignalsModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: ARTIFACT_STORE, useValue: opts.artifacts },
      { provide: SIGNAL_MODEL_RUNTIME, useValue: opts.runtime },
      SignalModelsRepository,
      SignalAliasesRepository,
      SignalScoresRepository,
      SignalScoringService,
      SignalsService,
    ];
    const controllers: Type<unknown>[] = opts.http === false ? [] : [SignalsController];
    if (opts.worker) {
      providers.push(
        { provide: SIGNALS_WORKER_OPTIONS, useValue: opts.worker === true ? {} : opts.worker },
        SignalsTrainWorker,
      );
      controllers.push(SignalsTrainController);
    }
    if (opts.scoreOnRefresh) controllers.push(FeatureSetRefreshedHandler);
    return {
      module: SignalsModule,
      imports: [opts.features],
      controllers,
      providers,
      exports: [
        SignalsService,
        SignalScoringService,
        SignalScoresRepository,
        SignalModelsRepository,
        ...(opts.worker ? [SignalsTrainWorker] : []),
      ],
    };
  }
}
