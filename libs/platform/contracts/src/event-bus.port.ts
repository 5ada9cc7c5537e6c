import type { Envelope, DeadLetter } from './envelope';
import type { CommandDefinition, EventDefinition, MessageDefinition } from './event-definition';

/** Injection token of the {@link EventBus} port. */
export const EVENT_BUS = Symbol('EVENT_BUS');

/** Options for publishing a message. */
export interface PublishOptions {
  /** Envelope id; defaults to a fresh UUIDv7. Republishing the same id is deduplicated. */
  id?: string;
  correlationId?: string;
  causationId?: string | null;
  /** Extra headers (W3C `traceparent` is injected automatically from the active span). */
  headers?: Record<string, string>;
}

/** What a handler gets besides the payload. */
export interface MessageContext<T = unknown> {
  envelope: Envelope<T>;
  subject: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  headers: Record<string, string>;
}

/** Handler of a delivered message; throwing causes redelivery with backoff, then the DLQ. */
export type MessageHandler<T> = (data: T, ctx: MessageContext<T>) => Promise<void> | void;

/** Subscription options. Subscribers sharing a `consumer` name compete for messages (work queue). */
export interface SubscribeOptions {
  /** Durable consumer name; see `durableConsumerName`. */
  consumer: string;
  /** Deliveries before dead-lettering (default 5). */
  maxDeliver?: number;
  /** Backoff between redeliveries in ms, indexed by attempt; the last value repeats (default [100, 500, 2000]). */
  backoffMs?: number[];
  /** Time a delivery may stay unacknowledged before redelivery, ms (default 30000). */
  ackWaitMs?: number;
  /** Where a brand-new consumer starts: all retained messages (default) or only new ones. */
  deliverFrom?: 'all' | 'new';
  /**
   * Messages one subscriber may hold before acknowledging (JetStream pull batch size; default 256). Lower it so that
   * replicas share slow work more evenly. The in-process adapter hands one message at a time to each subscriber.
   */
  prefetch?: number;
}

/** Handle of a subscription. */
export interface BusSubscription {
  /** Stops delivery to this subscriber; the durable consumer (and its position) is kept. */
  stop(): Promise<void>;
}

/** Health of the bus connection, for readiness probes. */
export interface BusHealth {
  adapter: 'jetstream' | 'in-process';
  status: 'up' | 'down';
  detail?: string;
}

/**
 * The EventBus port. Guarantees on both adapters: schema validation on publish and consume, at-least-once delivery,
 * per-subject ordering for one subscriber, redelivery with backoff, `dlq.<subject>` after max deliveries or on schema
 * failure, dedup by envelope id, competing consumers by shared consumer name.
 */
export interface EventBus {
  /** Publishes an event or a one-way command; resolves once the bus has stored it. */
  publish<T>(def: MessageDefinition<string, T>, data: T, opts?: PublishOptions): Promise<Envelope<T>>;
  /** Subscribes a durable consumer to an event or command subject. */
  subscribe<T>(
    def: MessageDefinition<string, T>,
    handler: MessageHandler<T>,
    opts: SubscribeOptions,
  ): Promise<BusSubscription>;
  /** Sends a command that answers and waits for the reply (validated against `def.reply`). */
  request<T, R>(
    def: CommandDefinition<string, T, R>,
    data: T,
    opts?: PublishOptions & { timeoutMs?: number },
  ): Promise<R>;
  /** Serves a command that answers; replicas sharing `queue` split the requests. */
  reply<T, R>(
    def: CommandDefinition<string, T, R>,
    handler: (data: T, ctx: MessageContext<T>) => Promise<R>,
    opts: { queue: string },
  ): Promise<BusSubscription>;
  /** Subscribes to dead letters of a subject (for operators and tests). */
  subscribeDeadLetters(subject: string, handler: (dl: DeadLetter) => void | Promise<void>): Promise<BusSubscription>;
  health(): BusHealth;
  /** Drains in-flight work and closes. */
  close(): Promise<void>;
}

export type { EventDefinition, CommandDefinition };
