import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { durableConsumerName, type BusSubscription, type EventBus, type MessageDefinition, type MessageHandler, type SubscribeOptions } from '@strata/platform-contracts';

/**
 * Base of a Nest provider that consumes bus subjects through the `EventBus` port with the semantics of `@OnEvent` /
 * `@OnCommand` (feature libraries may not import the bus adapters): each {@link consume} call opens the durable
 * consumer `<service>__<subject>__v<N>` (at-least-once; a throw means redelivery with backoff, then the DLQ), and
 * application shutdown stops every subscription in the order it was opened (the durable consumers and their
 * positions are kept). Subclasses open their consumers in `onApplicationBootstrap`.
 */
export abstract class DurableConsumers implements OnApplicationShutdown {
  private readonly subscriptions: BusSubscription[] = [];

  /**
   * @param bus the event bus (the `EVENT_BUS` provider).
   * @param service service name in the durable consumer names (`backtests`, `sentinel`, …).
   */
  protected constructor(
    protected readonly bus: EventBus,
    protected readonly service: string,
  ) {}

  /** Opens the durable consumer of `def` for this service; `opts.consumer` defaults to `durableConsumerName(service, def)`. */
  protected async consume<T>(def: MessageDefinition<string, T>, handler: MessageHandler<T>, opts: Partial<SubscribeOptions> = {}): Promise<void> {
    this.subscriptions.push(await this.bus.subscribe(def, handler, { consumer: durableConsumerName(this.service, def), ...opts }));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const s of this.subscriptions.splice(0)) await s.stop();
  }
}

/** Delivery settings of a {@link WorkQueueRunner}'s queue and the period of its recovery sweep (ms; 0 = no sweep). */
export interface WorkQueueWorkerOptions {
  ackWaitMs: number;
  maxDeliver: number;
  backoffMs: number[];
  sweepIntervalMs: number;
}

/** A worker a {@link WorkQueueRunner} drives: handles one command at a time and sweeps abandoned work. */
export interface WorkQueueWorker<T> {
  readonly options: WorkQueueWorkerOptions;
  /** Runs one command; a throw means redelivery (the bus counts `deliveryCount` from 1). */
  handle(cmd: T, ctx: { deliveryCount: number }): Promise<void>;
  /** Recovers work whose holder died (lease expired); the result is ignored, a rejection is logged as a warning. */
  sweep(): Promise<unknown>;
}

/**
 * Connects a long-running worker to a durable work-queue command shared by every worker process: one consumer
 * (`<service>__<subject>__v<N>`, prefetch 1, so one command at a time per process) with the worker's ack wait,
 * max deliveries and backoff, plus a periodic recovery sweep (`sweepIntervalMs`, an unref'd timer; a failed sweep is
 * logged as a warning and retried at the next tick). Shutdown stops the sweep, then the consumer.
 */
export abstract class WorkQueueRunner<T> extends DurableConsumers implements OnApplicationBootstrap {
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  /**
   * @param def the work-queue command.
   * @param worker what runs each command and the sweep.
   * @param loggerName Nest logger context of sweep warnings.
   */
  protected constructor(
    bus: EventBus,
    service: string,
    private readonly def: MessageDefinition<string, T>,
    private readonly worker: WorkQueueWorker<T>,
    loggerName: string,
  ) {
    super(bus, service);
    this.logger = new Logger(loggerName);
  }

  async onApplicationBootstrap(): Promise<void> {
    const o = this.worker.options;
    await this.consume(this.def, (cmd, ctx) => this.worker.handle(cmd, { deliveryCount: ctx.deliveryCount }), {
      ackWaitMs: o.ackWaitMs,
      maxDeliver: o.maxDeliver,
      backoffMs: o.backoffMs,
      prefetch: 1,
    });
    if (o.sweepIntervalMs > 0) {
      this.timer = setInterval(() => {
        this.worker.sweep().catch((e: unknown) => this.logger.warn({ msg: 'recovery sweep failed', err: (e as Error).message }));
      }, o.sweepIntervalMs);
      this.timer.unref();
    }
  }

  override async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await super.onApplicationShutdown();
  }
}
