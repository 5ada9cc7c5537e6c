import { openArtifactStores, type ArtifactStores } from '@strata/platform-artifacts';
import { JetStreamEventBus } from '@strata/platform-bus';
import type { EventBus } from '@strata/platform-contracts';
import { join } from 'node:path';
import { BusBarQualityFlagsStore, ReadOnlyBarsRepository, ReadOnlyFeatureStore } from './consumer-side.adapters';
import { NatsMarketDataReader } from './nats-market-data.reader';

/** Market data as a process that does not own the DuckDB file sees it (see {@link openRemoteMarketData}). */
export interface RemoteMarketData {
  /** The bus adapter of `MarketDataReader` (give it to `MarketDataReaderModule.register`). */
  reader: NatsMarketDataReader;
  /** Quality flags: reads over the bus, writes as commands to the marketdata service. */
  qualityFlags: BusBarQualityFlagsStore;
  /** A read-only `FeatureStore` over the reader (for `FeaturesModule.register({ store, http: false, refresh: false })`). */
  featureStore: ReadOnlyFeatureStore;
  /** Raw bars and correction audits in the `BarsRepository` shape (commits refused). */
  bars: ReadOnlyBarsRepository;
  /** The system's artifact stores on the JetStream Object Store (models, run series; staging; snapshots). */
  stores: ArtifactStores;
}

/**
 * Opens the consumer side of the market data for a split-deployment service (sentinel, signals, backtests): the bus
 * reader with its snapshot cache under `<dataDir>/snapshot-cache`, the flag store whose writes are commands, the
 * read-only feature and bars stores, and the artifact stores (Object Store buckets, shared by every process).
 * @throws Error naming `NATS_URL` when `bus` is not JetStream: these services read market data over NATS only.
 */
export async function openRemoteMarketData(opts: {
  /** The service, for the error message. */
  service: string;
  bus: EventBus;
  /** `STRATA_DATA_DIR` (absolute). */
  dataDir: string;
}): Promise<RemoteMarketData> {
  if (!(opts.bus instanceof JetStreamEventBus))
    throw new Error(
      `the ${opts.service} service reads market data from the marketdata service over NATS: set NATS_URL (or run everything in one process with npm start)`,
    );
  const stores = await openArtifactStores({ bus: opts.bus, dataDir: opts.dataDir });
  const reader = new NatsMarketDataReader({
    connection: opts.bus.connection(),
    snapshots: stores.snapshots,
    cacheDir: join(opts.dataDir, 'snapshot-cache'),
  });
  return {
    reader,
    qualityFlags: new BusBarQualityFlagsStore(reader, opts.bus),
    featureStore: new ReadOnlyFeatureStore(reader),
    bars: new ReadOnlyBarsRepository(reader),
    stores,
  };
}
