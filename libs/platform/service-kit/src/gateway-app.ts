import { Global, Module, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DOCUMENT_STORE, EVENT_BUS, type DocumentStore, type EventBus } from '@strata/platform-contracts';
import { IngestionLog } from '@strata/marketdata-feature';
import { configureStrataHttp, createStrataFastifyAdapter, PinoNestLogger, StrataHttpModule, type ApiKeyResolver } from '@strata/platform-http';
import type { Logger } from 'pino';
import { setupApiDocs } from './api-docs';
import { GatewayModule } from './gateway.module';
import { busHealthIndicator, HealthModule, storeHealthIndicator, type HealthIndicator } from './health';

/** Provides an {@link EventBus} instance under `EVENT_BUS` for the whole app (the bus is owned and closed by the caller). */
@Global()
@Module({})
export class EventBusProviderModule {
  static forRoot(bus: EventBus): DynamicModule {
    return { module: EventBusProviderModule, global: true, providers: [{ provide: EVENT_BUS, useValue: bus }], exports: [EVENT_BUS] };
  }
}

/** Provides a {@link DocumentStore} instance under `DOCUMENT_STORE` for the whole app (owned and closed by the caller). */
@Global()
@Module({})
export class DocumentStoreProviderModule {
  static forRoot(store: DocumentStore): DynamicModule {
    return { module: DocumentStoreProviderModule, global: true, providers: [{ provide: DOCUMENT_STORE, useValue: store }], exports: [DOCUMENT_STORE] };
  }
}

/** Everything the gateway HTTP app is built from. */
export interface GatewayAppDeps {
  bus: EventBus;
  apiKeys: ApiKeyResolver;
  logger: Logger;
  ingestionLog: IngestionLog;
  /**
   * The document store (MongoDB or embedded DuckDB): provided globally as `DOCUMENT_STORE` and reported by
   * `/health` as the `store` dependency. Owned and closed by the caller.
   */
  documentStore?: DocumentStore;
  /** Staging directory for uploads too large to travel inline (`<STRATA_DATA_DIR>/uploads`). */
  uploadDir: string;
  /** Largest CSV sent inside the command, bytes (default 512 KiB; the all-in-one process can use Infinity). */
  inlineMaxBytes?: number;
  /** Extra readiness dependencies besides the bus (e.g. the store). */
  healthIndicators?: HealthIndicator[];
  /** Largest upload, bytes (default 256 MiB). */
  uploadLimitBytes?: number;
  /** Further feature modules whose routes the gateway serves (market data queries, feature store). */
  modules?: DynamicModule[];
}

/**
 * Builds (and initialises, without listening) the gateway: NestJS on Fastify with API-key auth, problem+json
 * errors, request ids, pino logs, `/health`, `/docs`, `/openapi.json`, `/asyncapi.json` and the market-data routes.
 * The caller listens (`app.listen({ port, host })`) or injects requests, handles signals, and closes the app, then the bus.
 */
export async function createGatewayApp(deps: GatewayAppDeps): Promise<NestFastifyApplication> {
  @Module({
    imports: [
      EventBusProviderModule.forRoot(deps.bus),
      ...(deps.documentStore ? [DocumentStoreProviderModule.forRoot(deps.documentStore)] : []),
      StrataHttpModule.forRoot({ apiKeys: deps.apiKeys }),
      GatewayModule.register({
        healthIndicators: [busHealthIndicator(deps.bus), ...(deps.documentStore ? [storeHealthIndicator(deps.documentStore)] : []), ...(deps.healthIndicators ?? [])],
        ingestionLog: deps.ingestionLog,
        ingest: { uploadDir: deps.uploadDir, inlineMaxBytes: deps.inlineMaxBytes },
      }),
      ...(deps.modules ?? []),
    ],
  })
  class GatewayAppModule {}

  const app = await NestFactory.create<NestFastifyApplication>(GatewayAppModule, createStrataFastifyAdapter({ logger: deps.logger, uploadLimitBytes: deps.uploadLimitBytes }), {
    logger: new PinoNestLogger(deps.logger.child({ component: 'nest' })),
    bufferLogs: false,
  });
  configureStrataHttp(app);
  setupApiDocs(app);
  await app.init();
  return app;
}

/**
 * A minimal HTTP app serving only the health endpoints, for services whose work arrives over the bus (their
 * Kubernetes probes and compose health checks ask `GET /health` on `PORT`).
 */
export async function createHealthApp(opts: { service: string; logger: Logger; indicators: HealthIndicator[] }): Promise<NestFastifyApplication> {
  @Module({ imports: [HealthModule.register({ service: opts.service, indicators: opts.indicators })] })
  class HealthAppModule {}
  const app = await NestFactory.create<NestFastifyApplication>(HealthAppModule, createStrataFastifyAdapter({ logger: opts.logger }), {
    logger: new PinoNestLogger(opts.logger.child({ component: 'nest' })),
  });
  configureStrataHttp(app);
  await app.init();
  return app;
}

/** A running bus-side service of a standalone app: its Nest context, its `/health` app and what it closes. */
export interface StandaloneBusService {
  /** The bus-side Nest context. */
  service: INestMicroservice;
  /** The HTTP app serving `/health` (initialised; listening only after `health.listen`). */
  health: NestFastifyApplication;
  bus: EventBus;
  store: DocumentStore;
  /** Closes the health app, the service, the bus (when owned), then the store; once. */
  close(): Promise<void>;
}

/**
 * Starts a standalone app's bus-side service: the Nest microservice context of `module` on `strategy` (the app's
 * `BusTransport`), plus a `/health` app naming the bus and the store. On failure the context is closed and the error
 * rethrown; the bus and the store stay the caller's to close.
 */
export async function startStandaloneBusService(opts: {
  name: string;
  module: Type<unknown>;
  strategy: CustomTransportStrategy;
  bus: EventBus;
  ownsBus: boolean;
  store: DocumentStore;
  logger: Logger;
}): Promise<StandaloneBusService> {
  const { bus, store, logger } = opts;
  let service: INestMicroservice | undefined;
  try {
    service = await NestFactory.createMicroservice(opts.module, { strategy: opts.strategy, logger: new PinoNestLogger(logger.child({ component: 'nest' })) });
    await service.listen();
    const health = await createHealthApp({ service: opts.name, logger, indicators: [busHealthIndicator(bus), storeHealthIndicator(store)] });
    const svc = service;
    let closed: Promise<void> | undefined;
    return {
      service: svc,
      health,
      bus,
      store,
      close: () =>
        (closed ??= (async () => {
          await health.close();
          await svc.close();
          if (opts.ownsBus) await bus.close();
          await store.close();
        })()),
    };
  } catch (err) {
    await service?.close().catch(() => undefined);
    throw err;
  }
}
