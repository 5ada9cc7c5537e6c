import type { Type } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { PATTERN_EXTRAS_METADATA } from '@nestjs/microservices/constants';
import {
  type CommandDefinition,
  type MessageDefinition,
  type PayloadOf,
  type ReplyOf,
  type SubscribeOptions,
} from '@strata/platform-contracts';
import type { BusContext } from './bus.context';

/** Key under which the decorators store the contract in a Nest handler's `extras`. */
export const BUS_HANDLER_EXTRAS = 'strataBus';

/** Subscription options of a decorated handler; `consumer` defaults to `durableConsumerName(service, def)`. */
export type BusHandlerOptions = Omit<SubscribeOptions, 'consumer'> & { consumer?: string };

/**
 * Options known only once the controller exists (e.g. a work queue's ack wait and backoff, injected from the
 * module's options): read from the controller instance when the transport subscribes.
 */
export type BusHandlerOptionsOf<C> = (controller: C) => BusHandlerOptions;

/** What {@link BusTransport} reads from a handler's extras. */
export interface BusHandlerExtras {
  def: MessageDefinition;
  mode: 'subscribe' | 'reply';
  options: BusHandlerOptions | BusHandlerOptionsOf<never>;
  /** The controller class declaring the method. */
  controller: Type<unknown>;
  /** The method's name. */
  method: string;
}

/** A method handling payload `T` (and optionally the {@link BusContext}). */
type HandlerMethod<T, R> = (data: T, ctx: BusContext) => R | Promise<R>;

/** Decorator accepting only methods whose first parameter is the contract's payload type. */
export type TypedHandlerDecorator<T, R> = <M extends HandlerMethod<T, R>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

function decorator(
  def: MessageDefinition,
  mode: BusHandlerExtras['mode'],
  options: BusHandlerExtras['options'],
): MethodDecorator {
  return (target, key, descriptor) => {
    const extras: BusHandlerExtras = {
      def,
      mode,
      options,
      controller: target.constructor as Type<unknown>,
      method: String(key),
    };
    const pattern =
      mode === 'reply'
        ? MessagePattern<string>(def.subject, { [BUS_HANDLER_EXTRAS]: extras })
        : EventPattern<string>(def.subject, { [BUS_HANDLER_EXTRAS]: extras });
    pattern(target, key, descriptor);
  };
}

/**
 * Binds a method of a Nest `@Controller()` to an event contract: an `@EventPattern(def.subject)` whose handler is
 * fed by a durable consumer `<service>__<subject>__v<N>` of the bus (validated payload, at-least-once, redelivery
 * with backoff when the method throws, DLQ after maxDeliver, trace context from the message headers).
 * The method must be idempotent (keyed by `ctx.getEnvelope().id` or a natural key).
 */
export function OnEvent<D extends MessageDefinition, C = never>(
  def: D,
  options: BusHandlerOptions | BusHandlerOptionsOf<C> = {},
): TypedHandlerDecorator<PayloadOf<D>, unknown> {
  const decorate = decorator(def as MessageDefinition, 'subscribe', options as BusHandlerExtras['options']);
  return (target, key, descriptor) => decorate(target, key, descriptor);
}

/**
 * Binds a method of a Nest `@Controller()` to a command contract. A command with a reply schema becomes a
 * `@MessagePattern` served with request/reply (replicas share a queue group; the return value is validated against
 * the reply schema); a one-way command (a work queue) becomes a durable consumer like {@link OnEvent}.
 */
export function OnCommand<D extends CommandDefinition, C = never>(
  def: D,
  options: BusHandlerOptions | BusHandlerOptionsOf<C> = {},
): TypedHandlerDecorator<PayloadOf<D>, ReplyOf<D>> {
  const decorate = decorator(
    def as MessageDefinition,
    def.reply !== undefined ? 'reply' : 'subscribe',
    options as BusHandlerExtras['options'],
  );
  return (target, key, descriptor) => decorate(target, key, descriptor);
}

/** The `@OnEvent` / `@OnCommand` methods of a controller class (own and inherited), in declaration order. */
export function busHandlersOf(controller: Type<unknown>): BusHandlerExtras[] {
  const out: BusHandlerExtras[] = [];
  for (
    let proto = controller.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
      if (typeof fn !== 'function') continue;
      const extras = (Reflect.getMetadata(PATTERN_EXTRAS_METADATA, fn) as Record<string, unknown> | undefined)?.[
        BUS_HANDLER_EXTRAS
      ] as BusHandlerExtras | undefined;
      if (extras) out.push(extras);
    }
  }
  return out;
}

/** Resolves a handler's options against its controller instance (options given as a function of the controller). */
export function resolveBusHandlerOptions(extras: BusHandlerExtras, controller: () => unknown): BusHandlerOptions {
  return typeof extras.options === 'function'
    ? (extras.options as (c: unknown) => BusHandlerOptions)(controller())
    : extras.options;
}
