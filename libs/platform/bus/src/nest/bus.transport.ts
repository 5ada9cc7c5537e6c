import type { INestApplication, INestMicroservice, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type CustomTransportStrategy, Server, type MessageHandler as NestMessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import {
  durableConsumerName,
  type BusSubscription,
  type CommandDefinition,
  type EventBus,
  type MessageContext,
} from '@strata/platform-contracts';
import { BusError } from '../bus-errors';
import {
  BUS_HANDLER_EXTRAS,
  BusContext,
  resolveBusHandlerOptions,
  type BusHandlerExtras,
} from '@strata/platform-messaging';

/** Transport id of {@link BusTransport} (pass it to `@EventPattern(..., BUS_TRANSPORT)` to pin a handler). */
export const BUS_TRANSPORT = Symbol('STRATA_BUS_TRANSPORT');

/** Options of {@link BusTransport}. */
export interface BusTransportOptions {
  /** Service name: durable consumers are `durableConsumerName(service, def)`, reply queue groups likewise. */
  service: string;
  /**
   * Looks up a controller instance (the Nest context's `get(type, { strict: false })`), for handlers whose options
   * are a function of their controller (work queues configured by their module). {@link createBusMicroservice} sets it.
   */
  controllers?: (type: Type<unknown>) => unknown;
}

/**
 * NestJS custom transport over any {@link EventBus} (JetStream or in-process). Nest's built-in NATS transport is core
 * NATS only; this one gives handlers durable consumers with explicit acks: for every `@OnEvent` / `@OnCommand`
 * method it subscribes (or serves request/reply), and a method that throws or rejects makes the bus redeliver with
 * backoff and dead-letter after maxDeliver. Nest processing hooks (e.g. tracing interceptors) wrap every call.
 * `close()` stops this transport's subscriptions (draining in-flight handlers) but not the bus, which its creator owns.
 */
export class BusTransport extends Server implements CustomTransportStrategy {
  override readonly transportId = BUS_TRANSPORT;
  private subscriptions: BusSubscription[] = [];

  constructor(
    private readonly bus: EventBus,
    private readonly options: BusTransportOptions,
  ) {
    super();
  }

  /** Subscribes every decorated handler, then calls back (with the error when a subscription failed). */
  async listen(callback: (...optionalParams: unknown[]) => void): Promise<void> {
    try {
      for (const [pattern, handler] of this.messageHandlers) {
        const extras = (handler.extras as Record<string, unknown> | undefined)?.[BUS_HANDLER_EXTRAS] as
          BusHandlerExtras | undefined;
        if (!extras) {
          throw new BusError(
            'unavailable',
            `handler for "${pattern}" is not bound to a contract: use @OnEvent(def) / @OnCommand(def) instead of a bare pattern`,
          );
        }
        const { def, mode } = extras;
        const options = resolveBusHandlerOptions(extras, () => {
          if (!this.options.controllers)
            throw new BusError(
              'unavailable',
              `handler ${extras.controller.name}.${extras.method} takes its options from its controller: give BusTransport a controllers lookup (createBusMicroservice does)`,
            );
          return this.options.controllers(extras.controller);
        });
        const consumer = options.consumer ?? durableConsumerName(this.options.service, def);
        if (mode === 'reply') {
          this.subscriptions.push(
            await this.bus.reply(
              def as CommandDefinition<string, unknown, unknown>,
              (data, ctx) => this.invoke(handler, data, ctx),
              { queue: consumer },
            ),
          );
        } else {
          this.subscriptions.push(
            await this.bus.subscribe(def, (data, ctx) => this.invoke(handler, data, ctx).then(() => undefined), {
              ...options,
              consumer,
            }),
          );
        }
      }
      this._status$.next('listening');
      callback();
    } catch (e) {
      callback(e);
    }
  }

  /** Runs a Nest handler between the processing hooks; resolves with its (last) value, rejects with its error. */
  private invoke(handler: NestMessageHandler, data: unknown, ctx: MessageContext<unknown>): Promise<unknown> {
    const context = new BusContext(ctx);
    return new Promise<unknown>((resolve, reject) => {
      const run = async (): Promise<void> => {
        const runEnd = this.createProcessingEndHookRunner(context);
        try {
          const out: unknown = await handler(data, context);
          resolve(
            isObservable(out) ? await lastValueFrom(out as Observable<unknown>, { defaultValue: undefined }) : out,
          );
        } catch (e) {
          reject(e);
        } finally {
          runEnd();
        }
      };
      this.onProcessingStartHook(this.transportId, context, run);
    });
  }

  /** Stops this transport's subscriptions (in-flight handlers finish first). */
  async close(): Promise<void> {
    const subs = this.subscriptions;
    this.subscriptions = [];
    await Promise.all(subs.map((s) => s.stop()));
    this._status$.next('closed');
  }

  /** Event listeners are not supported: watch `bus.health()` instead. */
  on(): never {
    throw new Error('BusTransport does not emit transport events; use EventBus.health()');
  }

  /** The underlying bus. */
  unwrap<T>(): T {
    return this.bus as T;
  }
}

/**
 * Creates and starts a Nest microservice context of `module` on a {@link BusTransport} over `bus`: every
 * `@OnEvent` / `@OnCommand` controller method of the context is bound (durable consumers `<service>__<subject>__v<N>`,
 * reply queues). Resolves once listening; on failure the context is closed and the error rethrown.
 */
export async function createBusMicroservice(
  module: Type<unknown>,
  opts: { bus: EventBus; service: string; logger?: LoggerService | false },
): Promise<INestMicroservice> {
  const ref: { ctx?: INestMicroservice } = {};
  const strategy = new BusTransport(opts.bus, {
    service: opts.service,
    controllers: (type) => ref.ctx?.get(type, { strict: false }),
  });
  const ctx = (ref.ctx = await NestFactory.createMicroservice(module, {
    strategy,
    abortOnError: false,
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
  }));
  try {
    await ctx.listen();
  } catch (err) {
    await ctx.close().catch(() => undefined);
    throw err;
  }
  return ctx;
}

/**
 * Connects a {@link BusTransport} over `bus` to an HTTP app (a hybrid app: REST and bus handlers in one context);
 * the handlers are bound by `app.startAllMicroservices()`, which the caller awaits after `app.init()`.
 */
export function connectBusTransport(app: INestApplication, opts: { bus: EventBus; service: string }): void {
  app.connectMicroservice({
    strategy: new BusTransport(opts.bus, {
      service: opts.service,
      controllers: (type) => app.get(type, { strict: false }),
    }),
  });
}
