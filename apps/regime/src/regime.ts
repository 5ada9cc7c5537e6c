import { streamDomains } from '@strata/catalog-contracts';
import { MarketDataReaderModule } from '@strata/marketdata-feature';
import { openRemoteMarketData } from '@strata/marketdata-infra-nats';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { regimeService } from '@strata/regime-feature';
import type { Logger } from 'pino';
import type { Config } from './config';

/** File of the standalone regime service's embedded document store when `MONGODB_URI` is unset. */
export const REGIME_DUCKDB_FILE = 'strata-regime.duckdb';

/** A running regime service. */
export type RegimeApp = ServiceApp;

/**
 * Builds the regime service: keeps the regime cache (document store) fresh from `marketdata.evt.bars.ingested.v1`
 * (bars read from the marketdata service over NATS), fits queued model versions, answers regime history reads for the
 * backtests, and serves `/market-data/regime…` through the gateway. Replicas share the work (durable consumers).
 * Needs NATS_URL.
 */
export async function startRegime(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<RegimeApp> {
  return startServiceApp({
    name: 'regime',
    busDomains: streamDomains(),
    config: opts.config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: {
      file: REGIME_DUCKDB_FILE,
      warning:
        "MONGODB_URI is not set: the regime cache lives in this process's own embedded file; in a split deployment set MONGODB_URI",
    },
    // REST through the gateway only (HTTP over the bus); the port answers /health.
    http: { name: 'regime', kind: 'service' },
    open: async ({ bus, dataDir }) => ({ remote: await openRemoteMarketData({ service: 'regime', bus, dataDir }) }),
    services: (_env, { remote }) => [
      serviceRun(regimeService, {
        api: true,
        workers: 'all',
        adapters: {},
        imports: [MarketDataReaderModule.register(remote.reader)],
        // The refit route checks that the series has bars.
        apiImports: [MarketDataReaderModule.register(remote.reader)],
      }),
    ],
    staging: (_env, { remote }) => remote.stores.staging,
  });
}

/** Starts the regime service on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runRegime(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startRegime({ config: c, logger }), {
    name: 'regime',
    message: () => 'regime service running (REST /market-data/regime; filter on bar events, refits)',
  });
}
