import { FeatureSetRefreshedV1 } from '@strata/features-contracts';
import { durableConsumerName } from '@strata/platform-contracts';
import type { ServiceDefinition } from '@strata/platform-messaging';
import { TrainModelCommandV1 } from '@strata/signals-contracts';
import { signalsConfigShape } from '@strata/shared-util';
import { z } from 'zod';
import { SIGNALS_SERVICE } from './feature-set-refreshed.handler';
import { SignalsModule, type SignalsModuleOptions } from './signals.module';
import type { SignalsWorkerOptions } from './signals-train.worker';

/** Adapters of the signals service's ports, supplied by the app (the feature reader module, artifacts, onnxruntime). */
export type SignalsServiceAdapters = Pick<SignalsModuleOptions, 'features' | 'artifacts' | 'runtime'> & {
  /** Tuning of the training worker (lease, ack wait, backoff, sweep); default the worker's defaults. */
  worker?: SignalsWorkerOptions;
};

/** Environment variables of the signals service (beyond the common ones). */
export const SignalsConfigSchema = z.object(signalsConfigShape);

/**
 * The signals service: `/signals` (model registry, aliases, raw-row scoring) on the HTTP side; two worker parts:
 * `train` (the `signals.cmd.train.v1` work queue, one model at a time per worker) and `score` (the champion scores
 * refreshed feature sets). Both read the feature store, so they run where it is; training labels need the
 * market-data reader (`MarketDataModule`, added by the app).
 */
export const signalsService: ServiceDefinition<SignalsServiceAdapters, typeof SignalsConfigSchema> = {
  name: SIGNALS_SERVICE,
  description:
    'Trains, registers and serves gradient-boosted signal models (ONNX), scores refreshed features with the champion',
  config: SignalsConfigSchema,
  owns: {
    duckdbTables: [],
    collections: ['signal_models', 'signal_aliases', 'signal_scores'],
    streams: ['signals'],
    consumers: [
      durableConsumerName(SIGNALS_SERVICE, TrainModelCommandV1),
      durableConsumerName(SIGNALS_SERVICE, FeatureSetRefreshedV1),
    ],
  },
  api: ({ adapters: { features, artifacts, runtime } }) => [SignalsModule.register({ features, artifacts, runtime })],
  workers: {
    parts: ['train', 'score'],
    modules: ({ adapters: { features, artifacts, runtime, worker } }, parts) => [
      SignalsModule.register({
        features,
        artifacts,
        runtime,
        http: false,
        worker: parts.has('train') ? (worker ?? true) : false,
        scoreOnRefresh: parts.has('score'),
      }),
    ],
  },
};
