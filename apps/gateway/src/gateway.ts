import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { buildAsyncApiDocument, GATEWAY_ROUTES, streamDomains } from '@strata/catalog-contracts';
import type { ApiKeyService } from '@strata/platform-auth';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import type { Logger } from 'pino';
import type { Config } from './config';

/**
 * File of the standalone gateway's embedded document store when `MONGODB_URI` is unset: its own file, so it never
 * contends for the lock of the platform's `strata.duckdb` or of another service sharing the data directory.
 */
export const GATEWAY_DUCKDB_FILE = 'strata-gateway.duckdb';

/** A running standalone gateway. */
export type Gateway = ServiceApp & {
  /** The HTTP app (initialised; listening only after `app.listen`). */
  app: NestFastifyApplication;
  /** Issued API keys (`/admin/api-keys`). */
  apiKeys: ApiKeyService;
};

/**
 * Builds the standalone gateway, which holds no data: it authenticates each request (API keys in the shared document
 * store, MongoDB when `MONGODB_URI` is set) and forwards every route under a `GATEWAY_ROUTES` prefix to the owning
 * service over the bus (HTTP over NATS request/reply; bodies above `STRATA_INLINE_MAX_BYTES` staged in the
 * `strata-staging` bucket). An owner that does not answer within `GATEWAY_FORWARD_TIMEOUT_MS`
 * (`GATEWAY_UPLOAD_TIMEOUT_MS` for staged uploads), or that has no replica up, gives a 503 problem+json naming it.
 * It serves `/admin/api-keys`, `/asyncapi.json`, `/openapi.json` (merged from the owners) and `/health` itself.
 */
export async function startGateway(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<Gateway> {
  const { config } = opts;
  const app = await startServiceApp({
    name: 'gateway',
    busDomains: streamDomains(),
    config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: {
      file: GATEWAY_DUCKDB_FILE,
      warning:
        "MONGODB_URI is not set: API keys live in this gateway's own embedded file; in a split deployment set MONGODB_URI so the services share them",
    },
    http: {
      name: 'gateway',
      kind: 'api',
      gateway: {
        asyncApi: () => buildAsyncApiDocument(),
        forward: {
          routes: GATEWAY_ROUTES,
          timeoutMs: config.GATEWAY_FORWARD_TIMEOUT_MS,
          uploadTimeoutMs: config.GATEWAY_UPLOAD_TIMEOUT_MS,
        },
      },
    },
    services: () => [],
  });
  return { ...app, app: app.http, apiKeys: app.apiKeys! };
}

/** Starts the standalone gateway on `PORT` and closes it on SIGINT/SIGTERM. */
export async function runGateway(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startGateway({ config: c, logger }), {
    name: 'gateway',
    message: () => 'gateway listening',
  });
}
