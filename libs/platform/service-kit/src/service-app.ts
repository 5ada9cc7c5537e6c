import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuthModule, createApiKeyAuth, type ApiKeyService } from '@strata/platform-auth';
import { BusModule, createBusMicroservice, createEventBus, InProcessEventBus } from '@strata/platform-bus';
import { openArtifactStores } from '@strata/platform-artifacts';
import type { ArtifactStore, DocumentStore, EventBus } from '@strata/platform-contracts';
import { DuckDbDocumentStore, MongoDocumentStore } from '@strata/platform-document-store';
import {
  apiKeyEntriesFromConfig,
  configureStrataHttp,
  continueRequestTraces,
  createLogger,
  createStrataFastifyAdapter,
  parseApiKeys,
  PinoNestLogger,
  StrataHttpModule,
  type ApiKeyResolver,
} from '@strata/platform-http';
import type { ServiceContext, ServiceDefinition, ServiceModule } from '@strata/platform-messaging';
import type { TelemetryHandle } from '@strata/platform-telemetry';
import { onShutdownSignal, streamLimitsFromEnv, type serviceConfigShape } from '@strata/shared-util';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { setupApiDocs } from './api-docs';
import {
  DEFAULT_FORWARD_TIMEOUT_MS,
  DEFAULT_UPLOAD_TIMEOUT_MS,
  registerGatewayForwarding,
  type ForwardedRoute,
} from './gateway-forwarding';
import { OwnerOpenApiDocuments } from './gateway-openapi';
import { httpBusTransportFor } from './http-over-bus';
import { restrictToBus, serveHttpOverBus } from './http-owner';
import { AsyncApiModule } from './asyncapi.controller';
import { busHealthIndicator, HealthModule, storeHealthIndicator } from './health';
import { DocumentStoreProviderModule, EventBusProviderModule } from './providers.module';

/** The variables every app parses (`serviceConfigShape`), as the kit reads them. */
export type ServiceKitConfig = z.output<z.ZodObject<typeof serviceConfigShape>>;

/** What an app's adapter factories get once the store and the bus are up. */
export interface AppEnv<C extends ServiceKitConfig = ServiceKitConfig> {
  config: C;
  /** Absolute `STRATA_DATA_DIR`. */
  dataDir: string;
  logger: Logger;
  /** The process's document store (MongoDB or embedded DuckDB). */
  store: DocumentStore;
  /** The process's bus (each service gets its own view of it). */
  bus: EventBus;
  /** Bus contexts started so far, by service name: links between services of one process, looked up when called. */
  services: Readonly<Record<string, INestMicroservice>>;
}

/** One service an app runs: which of its parts run in this process, and the adapters of its ports. */
export interface ServiceRun {
  definition: ServiceDefinition<unknown>;
  /** Serve its `api` modules in this process's HTTP app. */
  api: boolean;
  /** Its worker parts that run here, in one bus context (`all`: every part). */
  workers: readonly string[] | 'all';
  adapters: unknown;
  /** Modules the app adds to this service's bus context (another capability's module, an infra provider). */
  imports: ServiceModule[];
  /** Modules the app adds to the HTTP app beside this service's `api` modules. */
  apiImports: ServiceModule[];
}

/** Names a service for an app: {@link ServiceRun} with the adapter type checked against the definition. */
export function serviceRun<A>(
  definition: ServiceDefinition<A>,
  run: {
    api?: boolean;
    workers?: readonly string[] | 'all';
    adapters: A;
    imports?: ServiceModule[];
    apiImports?: ServiceModule[];
  },
): ServiceRun {
  return {
    definition: definition as ServiceDefinition<unknown>,
    api: run.api ?? false,
    workers: run.workers ?? [],
    adapters: run.adapters,
    imports: run.imports ?? [],
    apiImports: run.apiImports ?? [],
  };
}

/** The HTTP side of an app. */
export interface ServiceAppHttp {
  /** `service` in `/health` (e.g. `gateway`). */
  name: string;
  /**
   * `health`: only the health endpoints (a bus-side service's probes); `api`: REST with API keys, `/docs`,
   * `/openapi.json`; `service`: a route owner of the split deployment: the same REST app, answered over the bus
   * (`rpc.<name>.cmd.http.v1`, queue group `<name>__http`) for the gateway, while its port serves `/health` only.
   */
  kind: 'health' | 'api' | 'service';
  /**
   * The REST gateway's own routes: `/admin/api-keys` and `/asyncapi.json` (built by this function, from the app's
   * message catalog); with `forward`, every route under a prefix is authenticated here and answered by its owner over
   * the bus, and `/openapi.json` / `/docs` merge the owners' documents.
   */
  gateway?: { asyncApi: () => Record<string, unknown>; forward?: GatewayForwarding };
  /** Test isolation on a shared NATS server: prefix of the HTTP-over-bus subjects (e.g. `t1234.`); empty in production. */
  busNamespace?: string;
  /** Keys consulted after the issued ones (tests); when set, `STRATA_API_KEYS` and the bootstrap key are not read. */
  apiKeys?: ApiKeyResolver;
  /** Largest upload, bytes (default 256 MiB). */
  uploadLimitBytes?: number;
  /** Modules the app adds to the HTTP app (e.g. another capability's reader). */
  imports?: ServiceModule[];
}

/** The gateway's forwarding table and budgets (see `registerGatewayForwarding`). */
export interface GatewayForwarding {
  /** Prefix → owning service (`GATEWAY_ROUTES` of `@strata/catalog-contracts`). */
  routes: readonly ForwardedRoute[];
  /** `GATEWAY_FORWARD_TIMEOUT_MS` (default 30000). */
  timeoutMs?: number;
  /** `GATEWAY_UPLOAD_TIMEOUT_MS`: budget when the body was staged (default 300000). */
  uploadTimeoutMs?: number;
}

/** What {@link startServiceApp} builds. */
export interface ServiceAppOptions<C extends ServiceKitConfig, R> {
  /** Process name: the bus producer when the kit creates the bus, log lines. */
  name: string;
  config: C;
  logger: Logger;
  /** Use this bus (tests, several apps on one in-process bus); not closed by the app. Else JetStream when `NATS_URL` is set, else the in-process bus. */
  bus?: EventBus;
  /**
   * Domains of the message catalog (`streamDomains()` of `@strata/catalog-contracts`): a `STRATA_STREAM_<STREAM>_*`
   * variable naming any other stream is a configuration error. Unset: only the values are checked.
   */
  busDomains?: readonly string[];
  /** The embedded document store's file under the data dir when `MONGODB_URI` is unset, and what to warn about it. */
  embeddedStore: { file: string; warning?: string };
  http: ServiceAppHttp;
  /**
   * Staging store of bodies above `STRATA_INLINE_MAX_BYTES` on the HTTP-over-bus path (gateway and route owners):
   * by default `openArtifactStores({ bus, dataDir }).staging` (`@strata/platform-artifacts`: the JetStream Object
   * Store bucket `strata-staging` on JetStream, `<dataDir>/staging` otherwise), opened only by the gateway and route
   * owners (`kind: 'service'`). Give the app's own when it already opened the stores.
   */
  staging?: (env: AppEnv<C>, resources: R) => Pick<ArtifactStore, 'put' | 'get'>;
  /** Opens what the adapters need (DuckDB, onnxruntime sessions) once the store and bus are up; closed after the services. */
  open?: (env: AppEnv<C>) => Promise<R & { close?(): Promise<void> }>;
  /** The services this process runs, in start order. */
  services: (env: AppEnv<C>, resources: R) => ServiceRun[] | Promise<ServiceRun[]>;
}

/** A running app: its HTTP app, its bus contexts, the bus and the store. */
export interface ServiceApp {
  /** The HTTP app (initialised; listening after `http.listen`). */
  http: NestFastifyApplication;
  /** The process's bus. */
  bus: EventBus;
  /** The process's document store. */
  store: DocumentStore;
  /** Each service's bus context, by name. */
  services: Record<string, INestMicroservice>;
  /** Issued API keys (`api` HTTP apps). */
  apiKeys?: ApiKeyService;
  /** Closes the HTTP app, the bus contexts (last started first), the resources, the bus (when the kit created it), then the store; once. */
  close(): Promise<void>;
}

/** Opens the document store: MongoDB when `MONGODB_URI` is set, else `<dataDir>/<file>` (embedded DuckDB). */
export async function openDocumentStore(
  config: ServiceKitConfig,
  dataDir: string,
  embedded: { file: string; warning?: string },
  logger: Logger,
): Promise<DocumentStore> {
  if (config.MONGODB_URI) return MongoDocumentStore.connect({ uri: config.MONGODB_URI });
  const path = join(dataDir, embedded.file);
  if (embedded.warning) logger.warn({ duckdb: path }, embedded.warning);
  return DuckDbDocumentStore.open(path);
}

/**
 * Boots an app, the one way every Strata process starts: the document store, the bus, the app's resources, then
 * each named service (its worker parts in a Nest microservice context of its own on the bus transport, with its own
 * view of the bus), then the HTTP app with every named service's `api` modules and `/health` naming the bus and the
 * store. A failure closes what was opened and rethrows.
 */
export async function startServiceApp<C extends ServiceKitConfig, R = object>(
  opts: ServiceAppOptions<C, R>,
): Promise<ServiceApp> {
  const { config, logger } = opts;
  const dataDir = resolve(config.STRATA_DATA_DIR);
  const nestLogger = new PinoNestLogger(logger.child({ component: 'nest' }));
  // Checked before anything opens: a bad STRATA_STREAM_* variable stops the start naming it (ConfigError).
  const streamLimits = opts.bus ? undefined : streamLimitsFromEnv(process.env, opts.busDomains);
  const closers: Array<() => Promise<unknown>> = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const store = await openDocumentStore(config, dataDir, opts.embeddedStore, logger);
    closers.push(() => store.close());
    const bus =
      opts.bus ??
      (await createEventBus({
        natsUrl: config.NATS_URL,
        dataDir,
        service: opts.name,
        streamLimits,
        logger: logger.child({ component: 'bus' }),
      }));
    if (!opts.bus) closers.push(() => bus.close());
    // The collections' tables / indexes exist before anything is served.
    await store.ready();
    logger.info(
      {
        store: config.MONGODB_URI ? 'mongodb' : `duckdb (embedded, ${opts.embeddedStore.file})`,
        bus: bus.health().adapter,
      },
      'document store and bus open',
    );
    const view = (service: string): EventBus => (bus instanceof InProcessEventBus ? bus.forService(service) : bus);

    const services: Record<string, INestMicroservice> = {};
    const env: AppEnv<C> = { config, dataDir, logger, store, bus, services };
    const resources = opts.open ? await opts.open(env) : ({} as R & { close?(): Promise<void> });
    if (resources.close) closers.push(() => resources.close!());

    const runs = await opts.services(env, resources);
    const ctxOf = (run: ServiceRun): ServiceContext<unknown, Record<string, unknown>> => ({
      adapters: run.adapters,
      config: config as Record<string, unknown>,
      dataDir,
    });
    for (const run of runs) {
      const def = run.definition;
      const known = def.workers?.parts ?? [];
      const parts = new Set(run.workers === 'all' ? known : run.workers);
      if (parts.size === 0) continue;
      for (const p of parts)
        if (!known.includes(p))
          throw new Error(`service ${def.name} has no worker part "${p}" (parts: ${known.join(', ') || 'none'})`);
      const serviceBus = view(def.name);
      @Module({
        imports: [
          BusModule.forRoot(serviceBus, { closeOnShutdown: serviceBus !== bus }),
          DocumentStoreProviderModule.forRoot(store),
          ...run.imports,
          ...def.workers!.modules(ctxOf(run), parts),
        ],
      })
      class ServiceContextModule {}
      const ctx = await createBusMicroservice(ServiceContextModule, {
        bus: serviceBus,
        service: def.name,
        logger: nestLogger,
      });
      closers.push(() => ctx.close());
      services[def.name] = ctx;
    }

    const h = opts.http;
    const httpBus = view(h.name);
    const indicators = [busHealthIndicator(httpBus), storeHealthIndicator(store)];
    let http: NestFastifyApplication;
    let apiKeys: ApiKeyService | undefined;
    let resolverOf: ApiKeyResolver | undefined;
    const inlineMaxBytes = (config as { STRATA_INLINE_MAX_BYTES?: number }).STRATA_INLINE_MAX_BYTES ?? 256 * 1024;
    const overBus = h.kind === 'service' || (h.kind === 'api' && !!h.gateway?.forward);
    const staging = !overBus
      ? undefined
      : opts.staging
        ? opts.staging(env, resources)
        : (await openArtifactStores({ bus, dataDir })).staging;
    if (h.kind === 'health') {
      @Module({ imports: [HealthModule.register({ service: h.name, indicators })] })
      class HealthAppModule {}
      http = await NestFactory.create<NestFastifyApplication>(HealthAppModule, createStrataFastifyAdapter({ logger }), {
        logger: nestLogger,
      });
    } else {
      // A route owner (`service`) authenticates nothing itself: the gateway forwards the principal it authenticated.
      const configKeys =
        h.apiKeys || h.kind === 'service'
          ? []
          : apiKeyEntriesFromConfig(parseApiKeys(config.STRATA_API_KEYS), dataDir, (msg, created) =>
              created ? process.stdout.write(`${msg}\n`) : logger.info(msg),
            );
      const auth = createApiKeyAuth(store, configKeys);
      const testKeys = h.apiKeys;
      const resolver: ApiKeyResolver = testKeys
        ? { resolve: async (key) => (await auth.resolver.resolve(key)) ?? testKeys.resolve(key) }
        : auth.resolver;
      apiKeys = auth.service;
      resolverOf = resolver;
      @Module({
        imports: [
          EventBusProviderModule.forRoot(httpBus),
          DocumentStoreProviderModule.forRoot(store),
          StrataHttpModule.forRoot({ apiKeys: resolver }),
          HealthModule.register({ service: h.name, indicators }),
          ...(h.gateway && h.kind === 'api'
            ? [AsyncApiModule.register(h.gateway.asyncApi), AuthModule.register({ service: auth.service })]
            : []),
          ...(h.imports ?? []),
          ...runs
            .filter((r) => r.api && r.definition.api)
            .flatMap((r) => [...r.apiImports, ...r.definition.api!(ctxOf(r))]),
        ],
      })
      class HttpAppModule {}
      http = await NestFactory.create<NestFastifyApplication>(
        HttpAppModule,
        createStrataFastifyAdapter({ logger, uploadLimitBytes: h.uploadLimitBytes }),
        { logger: nestLogger, bufferLogs: false },
      );
    }
    closers.push(() => http.close());
    // A route owner's port answers /health only; that check comes before any other (405 included).
    if (h.kind === 'service') restrictToBus(http);
    configureStrataHttp(http);
    // Before any route is registered (Nest's on init, the gateway's forwarding routes just below).
    continueRequestTraces(http);
    const forwarding = h.kind === 'api' ? h.gateway?.forward : undefined;
    const transport = forwarding || h.kind === 'service' ? httpBusTransportFor(bus) : undefined;
    let ownerDocs: OwnerOpenApiDocuments | undefined;
    if (forwarding && transport) {
      const timeoutMs = forwarding.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
      registerGatewayForwarding(http, {
        routes: forwarding.routes,
        transport,
        apiKeys: resolverOf!,
        staging,
        inlineMaxBytes,
        timeoutMs,
        uploadTimeoutMs: forwarding.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS,
        bodyLimitBytes: h.uploadLimitBytes ?? 256 * 1024 * 1024,
        namespace: h.busNamespace,
        logger,
      });
      ownerDocs = new OwnerOpenApiDocuments({
        services: [...new Set(forwarding.routes.map((r) => r.service))],
        transport,
        timeoutMs: Math.min(timeoutMs, 5000),
        namespace: h.busNamespace,
        logger,
      });
    }
    if (h.kind !== 'health') {
      const docs = ownerDocs;
      setupApiDocs(http, undefined, docs && (async (own) => (await docs.refresh(), docs.merge(own))));
    }
    await http.init();
    if (h.kind === 'service' && transport) {
      const responder = await serveHttpOverBus(http, {
        service: h.name,
        transport,
        staging,
        inlineMaxBytes,
        namespace: h.busNamespace,
        logger,
      });
      closers.push(() => responder.stop());
    }
    // The owners' documents are fetched in the background, so /openapi.json rarely waits for them.
    if (ownerDocs) void ownerDocs.refresh();

    let closed: Promise<void> | undefined;
    return { http, bus, store, services, apiKeys, close: () => (closed ??= closeAll()) };
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}

/**
 * `main.ts`'s second half: starts the app, listens on `PORT`, logs one line naming bus, store and services, and
 * closes everything (then telemetry) on SIGINT/SIGTERM.
 */
export async function runServiceApp<C extends ServiceKitConfig>(
  config: C,
  telemetry: TelemetryHandle,
  start: (config: C, logger: Logger) => Promise<ServiceApp>,
  opts: { name: string; message: (config: C) => string },
): Promise<ServiceApp> {
  const logger = createLogger({ service: opts.name, level: config.LOG_LEVEL });
  const app = await start(config, logger);
  await app.http.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info(
    {
      port: config.PORT,
      bus: app.bus.health(),
      store: await app.store.health(),
      services: Object.keys(app.services),
      telemetry: telemetry.describe,
    },
    opts.message(config),
  );
  onShutdownSignal(logger, async () => {
    await app.close();
    await telemetry.shutdown();
  });
  return app;
}
