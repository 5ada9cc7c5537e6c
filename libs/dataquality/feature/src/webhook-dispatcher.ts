import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { VersionConflictError, type StoredDocument } from '@strata/platform-contracts';
import { randomUUID } from 'node:crypto';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  IDEMPOTENCY_KEY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
} from './webhook-signature';
import { WEBHOOK_TRANSPORT, type WebhookTransport } from '@strata/dataquality-contracts';
import { WebhooksRepository, type WebhookDeliveryDoc } from './webhooks.repository';

/** Settings of webhook delivery. Every figure has a default; tests shorten the delays. */
export interface WebhookDispatcherOptions {
  /** Attempts per delivery before it goes `dead` (default 6). A redelivery grants this many again. */
  maxAttempts?: number;
  /** Base of the exponential backoff, ms (default 1,000): attempt k waits up to base × 2^(k−1). */
  baseDelayMs?: number;
  /** Cap of one backoff wait, ms (default 300,000). */
  maxDelayMs?: number;
  /** Per-request timeout, ms (default 10,000). */
  timeoutMs?: number;
  /** Requests in flight at once per dispatcher (default 8). */
  concurrency?: number;
  /** How often the dispatcher looks for due deliveries, ms (default 500; new deliveries also wake it at once). */
  pollIntervalMs?: number;
  /** Run the dispatcher loop in this process (default true where the module enables delivery). */
  run?: boolean;
}

/** Options with every default applied. */
export type ResolvedDispatcherOptions = Required<Omit<WebhookDispatcherOptions, 'run'>> & { run: boolean };

/** Injection token of {@link WebhookDispatcherOptions}. */
export const WEBHOOK_DISPATCHER_OPTIONS = Symbol('WEBHOOK_DISPATCHER_OPTIONS');

/** Applies the defaults of {@link WebhookDispatcherOptions}. */
export function resolveDispatcherOptions(o: WebhookDispatcherOptions = {}): ResolvedDispatcherOptions {
  return {
    maxAttempts: o.maxAttempts ?? 6,
    baseDelayMs: o.baseDelayMs ?? 1000,
    maxDelayMs: o.maxDelayMs ?? 300_000,
    timeoutMs: o.timeoutMs ?? 10_000,
    concurrency: o.concurrency ?? 8,
    pollIntervalMs: o.pollIntervalMs ?? 500,
    run: o.run ?? true,
  };
}

/**
 * Wait before the next attempt after `failedAttempts` failures: exponential backoff with FULL jitter (AWS
 * Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(maxDelay, base × 2^(failedAttempts−1))),
 * ms. Full jitter spreads the retries of many deliveries that failed together (a receiver outage) instead of
 * synchronising them.
 */
export function retryDelayMs(
  failedAttempts: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, Math.min(failedAttempts - 1, 30)));
  return Math.floor(random() * ceiling);
}

/**
 * Delivers persisted webhook deliveries: a loop that claims due `pending` deliveries (and `in_flight` ones whose
 * lease ran out, left by a crashed dispatcher) with a compare-and-set on the document version, POSTs the signed
 * body with a per-request timeout, at most `concurrency` at once, and records the outcome: 2xx → `succeeded`;
 * otherwise `pending` again after {@link retryDelayMs}, or `dead` after `maxAttempts`. Several dispatchers (replicas,
 * the platform and the standalone sentinel) can run against one store: a claim is exclusive. State lives only in the
 * store, so a restart resumes where it stopped. Scoring never waits for it.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly options: ResolvedDispatcherOptions;
  private readonly logger = new Logger('webhooks');
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private again = false;
  /** Identifies this dispatcher in logs. */
  readonly dispatcherId = randomUUID().slice(0, 8);

  constructor(
    private readonly repo: WebhooksRepository,
    @Inject(WEBHOOK_TRANSPORT) private readonly transport: WebhookTransport,
    @Optional() @Inject(WEBHOOK_DISPATCHER_OPTIONS) options?: WebhookDispatcherOptions,
  ) {
    this.options = resolveDispatcherOptions(options);
  }

  onApplicationBootstrap(): void {
    if (this.options.run) this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.kick();
  }

  /** Stops looking for work and waits for the requests in flight (each ends by its timeout). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Looks for due deliveries now (called when new deliveries were queued). */
  kick(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.ticking = this.tick()
      .catch((e: unknown) => this.logger.warn({ msg: 'webhook dispatch round failed', err: (e as Error).message }))
      .finally(() => {
        this.ticking = undefined;
        if (!this.running) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = setTimeout(() => this.kick(), this.options.pollIntervalMs);
          this.timer.unref();
        }
      });
  }

  /** One round: claims up to the free concurrency slots and starts their requests. Returns once they are started. */
  async tick(): Promise<void> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const now = new Date().toISOString();
    const candidates = [...(await this.repo.due(now, free)).items];
    if (candidates.length < free) candidates.push(...(await this.repo.abandoned(now, free - candidates.length)).items);
    for (const d of candidates) {
      if (this.inFlight.size >= this.options.concurrency) break;
      const claimed = await this.claim(d);
      if (!claimed) continue;
      const p: Promise<void> = this.attempt(claimed)
        .catch((e: unknown) =>
          this.logger.warn({ msg: 'webhook attempt bookkeeping failed', delivery: d.id, err: (e as Error).message }),
        )
        .finally(() => {
          this.inFlight.delete(p);
          // A slot is free: look for more work at once.
          this.kick();
        });
      this.inFlight.add(p);
    }
  }

  /**
   * Waits until nothing is in flight and nothing is due before the deadline, retries scheduled by backoff included
   * (tests and benchmarks; a retry due in a few ms is not "done" just because it is not due yet).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      await this.ticking;
      await Promise.allSettled([...this.inFlight]);
      const due = await this.repo.due(new Date(end).toISOString(), 1);
      if (this.inFlight.size === 0 && due.items.length === 0) return;
      this.kick();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async claim(d: StoredDocument<WebhookDeliveryDoc>): Promise<StoredDocument<WebhookDeliveryDoc> | null> {
    const leaseUntil = new Date(Date.now() + this.options.timeoutMs + 30_000).toISOString();
    try {
      return await this.repo.updateDelivery(d.id, d._version, { set: { status: 'in_flight', leaseUntil } });
    } catch (e) {
      if (e instanceof VersionConflictError) return null; // another dispatcher took it
      throw e;
    }
  }

  private async attempt(d: StoredDocument<WebhookDeliveryDoc>): Promise<void> {
    const sub = await this.repo.subscriptions.get(d.subscriptionId);
    const attemptAt = new Date();
    if (!sub || !sub.enabled) {
      // Nothing to send to: park it as dead (redeliverable once the subscription is enabled again).
      await this.repo.updateDelivery(d.id, d._version, {
        set: {
          status: 'dead',
          leaseUntil: null,
          nextAttemptAt: null,
          lastError: sub ? 'subscription disabled' : 'subscription deleted',
          lastAttemptAt: attemptAt.toISOString(),
        },
      });
      return;
    }
    const t = Math.floor(attemptAt.getTime() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await this.transport.post({
        url: sub.url,
        body: d.body,
        timeoutMs: this.options.timeoutMs,
        headers: {
          'Content-Type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(sub.secret, d.body, t),
          [IDEMPOTENCY_KEY_HEADER]: d.idempotencyKey,
          [EVENT_HEADER]: d.subject,
          [DELIVERY_HEADER]: d.id,
        },
      });
      status = res.status;
      if (status < 200 || status >= 300) error = `HTTP ${status}${res.bodyExcerpt ? `: ${res.bodyExcerpt}` : ''}`;
    } catch (e) {
      error = (e as Error).message || 'request failed';
    }
    const attempts = d.attempts + 1;
    const done = new Date();
    if (error === null) {
      await this.repo.updateDelivery(d.id, d._version, {
        set: {
          status: 'succeeded',
          attempts,
          leaseUntil: null,
          nextAttemptAt: null,
          lastStatusCode: status,
          lastError: null,
          lastAttemptAt: attemptAt.toISOString(),
          deliveredAt: done.toISOString(),
        },
      });
      return;
    }
    const dead = attempts >= d.maxAttempts;
    const next = dead
      ? null
      : new Date(
          done.getTime() + retryDelayMs(attempts, this.options.baseDelayMs, this.options.maxDelayMs),
        ).toISOString();
    await this.repo.updateDelivery(d.id, d._version, {
      set: {
        status: dead ? 'dead' : 'pending',
        attempts,
        leaseUntil: null,
        nextAttemptAt: next,
        lastStatusCode: status,
        lastError: error.slice(0, 500),
        lastAttemptAt: attemptAt.toISOString(),
      },
    });
    if (dead)
      this.logger.warn({
        msg: 'webhook delivery dead after its last attempt',
        delivery: d.id,
        subscription: d.subscriptionId,
        attempts,
        error,
      });
  }
}
