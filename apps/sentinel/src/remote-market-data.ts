import { FeaturesModule } from '@strata/features-feature';
import { MarketDataReaderModule } from '@strata/marketdata-feature';
import { BusBarQualityFlagsStore, NatsMarketDataReader, ReadOnlyFeatureStore } from '@strata/marketdata-infra-nats';
import { openArtifactStores, type ArtifactStores } from '@strata/platform-artifacts';
import { JetStreamEventBus } from '@strata/platform-bus';
import type { EventBus } from '@strata/platform-contracts';
import {
  MarketDataNotFoundError,
  type BarColumns,
  type BarCorrection,
  type BarsCommitOutcome,
  type BarsRepository,
  type MarketDataReader,
  type SeriesWindow,
  type SymbolSeries,
} from '@strata/marketdata-contracts';
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

/**
 * The sentinel's scoring reads raw bars through the `BarsRepository` shape; here that shape over the bus reader
 * (`adjust: 'raw'`). Only `read` and `listSeries` are served over the bus: correction audits (`bars.corrected`) and
 * the other methods reject naming the marketdata service, so such an event is retried and dead-lettered, not lost.
 */
export class BusBarsRepository implements BarsRepository {
  constructor(private readonly reader: MarketDataReader) {}

  async read(req: SeriesWindow): Promise<BarColumns> {
    try {
      return (await this.reader.getBars({ ...req, adjust: 'raw' })).bars;
    } catch (e) {
      if (e instanceof MarketDataNotFoundError) return emptyBars();
      throw e;
    }
  }

  listSeries(opts: Parameters<BarsRepository['listSeries']>[0]): Promise<SymbolSeries[]> {
    return this.reader.listSeries(opts);
  }

  commit(): Promise<BarsCommitOutcome> {
    return Promise.reject(new Error('bars are written by the marketdata service only'));
  }

  count(): Promise<number> {
    return Promise.reject(new Error('bar counts are served by the marketdata service only'));
  }

  listCorrections(): Promise<BarCorrection[]> {
    return Promise.reject(new Error('correction audits are not served over the bus yet (marketdata service)'));
  }

  lastClosesBefore(): Promise<Float64Array> {
    return Promise.reject(new Error('lastClosesBefore is served by the marketdata service only'));
  }
}

function emptyBars(): BarColumns {
  const z = () => new Float64Array(0);
  return { length: 0, ts: z(), open: z(), high: z(), low: z(), close: z(), volume: z(), adjClose: null };
}
