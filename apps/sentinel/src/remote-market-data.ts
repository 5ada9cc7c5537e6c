import { FeaturesModule } from '@strata/features-feature';
import { MarketDataReaderModule } from '@strata/marketdata-feature';
import { BusBarQualityFlagsStore, NatsMarketDataReader, ReadOnlyFeatureStore } from '@strata/marketdata-infra-nats';
import { openArtifactStores, type ArtifactStores } from '@strata/platform-artifacts';
import { JetStreamEventBus } from '@strata/platform-bus';
import type { EventBus } from '@strata/platform-contracts';
import { join } from 'node:path';

/**
 * Market data as a process that does not own the DuckDB file sees it: the bus reader (snapshots cached under
 * `<dataDir>/snapshot-cache`), quality flags whose writes are commands to marketdata, a read-only feature store for
 * the features module, and the artifact stores on the JetStream Object Store. Needs JetStream (NATS_URL).
 */
export async function openRemoteMarketData(opts: { service: string; bus: EventBus; dataDir: string }) {
  if (!(opts.bus instanceof JetStreamEventBus))
    throw new Error(
      `the ${opts.service} service reads market data from the marketdata service over NATS: set NATS_URL (or run everything in one process with npm start)`,
    );
  const stores: ArtifactStores = await openArtifactStores({ bus: opts.bus, dataDir: opts.dataDir });
  const reader = new NatsMarketDataReader({
    connection: opts.bus.connection(),
    snapshots: stores.snapshots,
    cacheDir: join(opts.dataDir, 'snapshot-cache'),
  });
  const qualityFlags = new BusBarQualityFlagsStore(reader, opts.bus);
  return {
    reader,
    qualityFlags,
    artifacts: stores.artifacts,
    staging: stores.staging,
    /** `MARKET_DATA_READER` (global) for the service's bus context. */
    module: MarketDataReaderModule.register(reader),
    /** `FEATURE_READER` over the read-only feature store (training datasets, as-of joins, quality filter). */
    features: FeaturesModule.register({
      store: new ReadOnlyFeatureStore(reader),
      http: false,
      refresh: false,
      qualityFlags,
    }),
  };
}
