import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { BusHandlerOptions } from './bus.decorators';

/** Delivery settings of a work queue shared by every worker process (ms). */
export interface WorkQueueDelivery {
  ackWaitMs: number;
  maxDeliver: number;
  backoffMs: number[];
}

/**
 * Handler options of a work-queue command (`@OnCommand(def, (c) => workQueueOptions(c.worker.options))`): the
 * worker's ack wait, max deliveries and backoff, and prefetch 1 (one command at a time per process).
 */
export function workQueueOptions(o: WorkQueueDelivery): BusHandlerOptions {
  return { ackWaitMs: o.ackWaitMs, maxDeliver: o.maxDeliver, backoffMs: o.backoffMs, prefetch: 1 };
}

/**
 * The periodic recovery sweep of a work queue (work whose holder died is announced again): an unref'd timer; a
 * failed sweep is logged as a warning and retried at the next tick. Start it in the controller's
 * `onApplicationBootstrap`, stop it in `onApplicationShutdown`.
 */
export class RecoverySweep {
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  /** @param loggerName Nest logger context of the warnings. */
  constructor(loggerName: string) {
    this.logger = new Logger(loggerName);
  }

  /** Runs `sweep` every `intervalMs` (0: never). */
  start(intervalMs: number, sweep: () => Promise<unknown>): void {
    this.stop();
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => {
      sweep().catch((e: unknown) => this.logger.warn({ msg: 'recovery sweep failed', err: (e as Error).message }));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer (a sweep in flight finishes on its own). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** A work-queue worker: its delivery settings, its sweep period (ms; 0 = none) and the sweep itself. */
export interface SweepingWorker {
  readonly options: WorkQueueDelivery & { sweepIntervalMs: number };
  /** Recovers work whose holder died; the result is ignored, a rejection is logged as a warning. */
  sweep(): Promise<unknown>;
}

/**
 * Base of a work-queue controller: runs its worker's {@link RecoverySweep} while the Nest context runs. The subclass
 * declares the `@OnCommand(def, (c) => workQueueOptions(c.worker.options))` method that hands each delivery to the worker.
 */
export abstract class WorkQueueController<W extends SweepingWorker>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly sweeper: RecoverySweep;

  /**
   * @param worker the worker the queue feeds.
   * @param loggerName Nest logger context of sweep warnings.
   */
  protected constructor(
    readonly worker: W,
    loggerName: string,
  ) {
    this.sweeper = new RecoverySweep(loggerName);
  }

  onApplicationBootstrap(): void {
    this.sweeper.start(this.worker.options.sweepIntervalMs, () => this.worker.sweep());
  }

  onApplicationShutdown(): void {
    this.sweeper.stop();
  }
}
