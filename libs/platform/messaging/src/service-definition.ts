import type { DynamicModule, Type } from '@nestjs/common';
import type { z } from 'zod';

/** A Nest module as a service contributes it (a class or a `register(...)` result). */
export type ServiceModule = Type<unknown> | DynamicModule;

/** What a service owns, declared for docs, health and tests (the code that creates them stays where it is). */
export interface ServiceOwnership {
  /** DuckDB tables it writes (e.g. `bars`). */
  duckdbTables: readonly string[];
  /** Document collections it writes. */
  collections: readonly string[];
  /** JetStream streams (domains) of the subjects it publishes. */
  streams: readonly string[];
  /** Durable consumers and reply queues it opens: `<service>__<subject>__v<N>`. */
  consumers: readonly string[];
}

/** What a service's module factories get: the adapters the app supplied, the parsed configuration, the data dir. */
export interface ServiceContext<A, C> {
  /** Adapters of the service's ports (infra), built by the app that runs it. */
  adapters: A;
  /** The process's parsed configuration (at least the service's own schema). */
  config: C;
  /** Absolute `STRATA_DATA_DIR`. */
  dataDir: string;
}

/**
 * One Strata service, as its capability's feature library declares it. The service kit runs it: its `api` modules
 * go into the process's HTTP app (the gateway in the all-in-one platform), its `workers` into one Nest microservice
 * context of its own on the bus transport (every `@OnEvent` / `@OnCommand` controller bound once, under consumer
 * names `<name>__<subject>__v<N>`). An app names the definitions it runs and which of their parts; nothing else
 * decides where a module runs.
 *
 * @typeParam A adapters of the service's ports, supplied by the app (feature libraries never import infra).
 * @typeParam S the service's own environment variables (zod object; the kit adds the common ones).
 */
export interface ServiceDefinition<A = never, S extends z.ZodObject = z.ZodObject> {
  /** Service name: logs, `/health`, durable consumer names (`ingestion`, `features`, `sentinel`, …). */
  readonly name: string;
  /** One line on what it does. */
  readonly description: string;
  /** Its own environment variables (apps' `config.ts` spread `config.shape`). */
  readonly config: S;
  /** What it owns. */
  readonly owns: ServiceOwnership;
  /** The REST side: modules served by the process's HTTP app. */
  readonly api?: (ctx: ServiceContext<A, z.output<S>>) => ServiceModule[];
  /**
   * The bus side: its parts (e.g. sentinel `scoring` and `webhooks`; an app runs all or some of them) and the modules
   * of the selected parts, whose `@OnEvent` / `@OnCommand` controllers handle the messages.
   */
  readonly workers?: {
    readonly parts: readonly string[];
    readonly modules: (ctx: ServiceContext<A, z.output<S>>, parts: ReadonlySet<string>) => ServiceModule[];
  };
}

/** Any service definition (for lists of definitions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServiceDefinition = ServiceDefinition<any, any>;
