import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { CommandDefinition, MessageDefinition, PayloadOf, ReplyOf, SubscribeOptions } from '@strata/platform-contracts';
import type { BusContext } from './bus.context';

/** Key under which the decorators store the contract in a Nest handler's `extras`. */
export const BUS_HANDLER_EXTRAS = 'strataBus';

/** Subscription options of a decorated handler; `consumer` defaults to `durableConsumerName(service, def)`. */
export type BusHandlerOptions = Omit<SubscribeOptions, 'consumer'> & { consumer?: string };

/** What {@link BusTransport} reads from a handler's extras. */
export interface BusHandlerExtras {
  def: MessageDefinition;
  mode: 'subscribe' | 'reply';
  options: BusHandlerOptions;
}

/** A method handling payload `T` (and optionally the {@link BusContext}). */
type HandlerMethod<T, R> = (data: T, ctx: BusContext) => R | Promise<R>;

/** Decorator accepting only methods whose first parameter is the contract's payload type. */
export type TypedHandlerDecorator<T, R> = <M extends HandlerMethod<T, R>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void;

/**
 * Binds a Nest method to an event contract: an `@EventPattern(def.subject)` whose handler is fed by a durable
 * consumer of the bus (validated payload, at-least-once, redelivery when the method throws, DLQ after maxDeliver).
 * The method must be idempotent (keyed by `ctx.getEnvelope().id` or a natural key).
 */
export function OnEvent<D extends MessageDefinition>(def: D, options: BusHandlerOptions = {}): TypedHandlerDecorator<PayloadOf<D>, unknown> {
  const extras: BusHandlerExtras = { def: def as MessageDefinition, mode: 'subscribe', options };
  const decorate: MethodDecorator = EventPattern<string>(def.subject, { [BUS_HANDLER_EXTRAS]: extras });
  return (target, key, descriptor) => decorate(target, key, descriptor);
}

/**
 * Binds a Nest method to a command contract. A command with a reply schema becomes a `@MessagePattern` served with
 * request/reply (replicas share a queue group; the return value is validated against the reply schema); a one-way
 * command becomes a durable consumer like {@link OnEvent}.
 */
export function OnCommand<D extends CommandDefinition>(def: D, options: BusHandlerOptions = {}): TypedHandlerDecorator<PayloadOf<D>, ReplyOf<D>> {
  const answers = def.reply !== undefined;
  const extras: BusHandlerExtras = { def: def as MessageDefinition, mode: answers ? 'reply' : 'subscribe', options };
  const decorate: MethodDecorator = answers
    ? MessagePattern<string>(def.subject, { [BUS_HANDLER_EXTRAS]: extras })
    : EventPattern<string>(def.subject, { [BUS_HANDLER_EXTRAS]: extras });
  return (target, key, descriptor) => decorate(target, key, descriptor);
}
