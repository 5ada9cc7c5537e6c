import { Injectable, Optional } from '@nestjs/common';
import {
  AnomalyDetectedV1,
  type AnomalyDetected,
  type CreateWebhookBody,
  type UpdateWebhookBody,
  type WebhookDeliveryDto,
  type WebhookDeliveryStatus,
  type WebhookSubscriptionDto,
} from '@strata/dataquality-contracts';
import { DuplicateKeyError, type Envelope } from '@strata/platform-contracts';
import { uuidv7 } from '@strata/shared-util';
import { SEVERITY_RANK } from './data-quality-events.repository';
import { WebhookDispatcher } from './webhook-dispatcher';
import { toDeliveryDto, toSubscriptionDto, webhookDeliveryId, WebhooksRepository } from './webhooks.repository';

/** No such subscription or delivery. */
export class WebhookNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookNotFoundError';
  }
}

/** A delivery cannot be re-queued in its current state (it is pending or in flight). */
export class WebhookDeliveryStateError extends Error {
  constructor(
    message: string,
    readonly status: WebhookDeliveryStatus,
  ) {
    super(message);
    this.name = 'WebhookDeliveryStateError';
  }
}

/**
 * The JSON body of a webhook delivery: the event in its envelope form (`id`, `type` = subject, `occurredAt`, `data` =
 * the DataQualityEvent as detected). Serialised once and stored, so every attempt sends (and signs) the same bytes.
 */
export function webhookBody(envelope: Pick<Envelope<AnomalyDetected>, 'id' | 'occurredAt' | 'data'>): string {
  return JSON.stringify({
    id: envelope.id,
    type: AnomalyDetectedV1.subject,
    occurredAt: envelope.occurredAt,
    data: envelope.data,
  });
}

/**
 * Webhook subscriptions (admin CRUD; the secret is write-only), the fan-out of detected anomalies into persisted
 * deliveries, the per-subscription delivery log and redelivery.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repo: WebhooksRepository,
    @Optional() private readonly dispatcher?: WebhookDispatcher,
  ) {}

  async create(body: CreateWebhookBody, createdBy: string | null): Promise<WebhookSubscriptionDto> {
    const now = new Date().toISOString();
    const doc = await this.repo.subscriptions.insert({
      id: uuidv7(),
      url: body.url,
      minSeverity: body.minSeverity,
      symbols: [...new Set(body.symbols)].sort(),
      secret: body.secret,
      description: body.description ?? null,
      enabled: body.enabled,
      createdAt: now,
      updatedAt: now,
      createdBy,
    });
    return toSubscriptionDto(doc);
  }

  async list(req: {
    limit: number;
    cursor?: string;
  }): Promise<{ items: WebhookSubscriptionDto[]; nextCursor: string | null }> {
    const page = await this.repo.subscriptions.page({
      sort: { field: 'createdAt', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
    return { items: page.items.map(toSubscriptionDto), nextCursor: page.nextCursor };
  }

  async get(id: string): Promise<WebhookSubscriptionDto> {
    const d = await this.repo.subscriptions.get(id);
    if (!d) throw new WebhookNotFoundError(`no webhook subscription ${id}`);
    return toSubscriptionDto(d);
  }

  async update(id: string, body: UpdateWebhookBody): Promise<WebhookSubscriptionDto> {
    if (!(await this.repo.subscriptions.get(id))) throw new WebhookNotFoundError(`no webhook subscription ${id}`);
    const set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
    for (const k of ['url', 'minSeverity', 'secret', 'description', 'enabled'] as const)
      if (body[k] !== undefined) set[k] = body[k];
    if (body.symbols) set.symbols = [...new Set(body.symbols)].sort();
    const d = await this.repo.subscriptions.updateWithRetry(id, () => ({ set }));
    return toSubscriptionDto(d);
  }

  /** Deletes a subscription; its pending deliveries go `dead` ("subscription deleted") when next picked up. */
  async remove(id: string): Promise<void> {
    if (!(await this.repo.subscriptions.delete(id))) throw new WebhookNotFoundError(`no webhook subscription ${id}`);
  }

  async deliveries(
    id: string,
    req: { status?: WebhookDeliveryStatus; limit: number; cursor?: string },
  ): Promise<{ items: WebhookDeliveryDto[]; nextCursor: string | null }> {
    if (!(await this.repo.subscriptions.get(id))) throw new WebhookNotFoundError(`no webhook subscription ${id}`);
    const page = await this.repo.deliveriesOf(id, req);
    return { items: page.items.map(toDeliveryDto), nextCursor: page.nextCursor };
  }

  /**
   * Re-queues a `dead` (or `succeeded`) delivery: due now, with `maxAttempts` more attempts, the same body and the
   * same idempotency key (a receiver that already processed it recognises it). Pending / in-flight → 409.
   */
  async redeliver(subscriptionId: string, deliveryId: string, maxAttempts: number): Promise<WebhookDeliveryDto> {
    const d = await this.repo.deliveries.get(deliveryId);
    if (!d || d.subscriptionId !== subscriptionId)
      throw new WebhookNotFoundError(`no delivery ${deliveryId} of webhook ${subscriptionId}`);
    const updated = await this.repo.deliveries.updateWithRetry(deliveryId, (cur) => {
      if (cur.status === 'pending' || cur.status === 'in_flight')
        throw new WebhookDeliveryStateError(
          `delivery ${deliveryId} is ${cur.status}; only dead or succeeded deliveries can be redelivered`,
          cur.status,
        );
      return {
        set: {
          status: 'pending',
          nextAttemptAt: new Date().toISOString(),
          maxAttempts: cur.attempts + maxAttempts,
          leaseUntil: null,
        },
      };
    });
    this.dispatcher?.kick();
    return toDeliveryDto(updated);
  }

  /**
   * Fan-out of one detected anomaly: one delivery per enabled subscription whose `minSeverity` and symbol filter
   * match. `probable_split` events are proposals, never paged. Idempotent: the delivery id derives from
   * (event id, subscription id), so a redelivered event queues nothing twice. Returns the deliveries queued now.
   */
  async fanOut(
    envelope: Pick<Envelope<AnomalyDetected>, 'id' | 'occurredAt' | 'data'>,
    maxAttempts: number,
  ): Promise<number> {
    const e = envelope.data;
    if (e.kind === 'probable_split') return 0;
    const subs = await this.repo.enabledSubscriptions();
    let queued = 0;
    const body = webhookBody(envelope);
    const now = new Date().toISOString();
    for (const s of subs) {
      if (SEVERITY_RANK[e.severity] < SEVERITY_RANK[s.minSeverity]) continue;
      if (s.symbols.length > 0 && !s.symbols.includes(e.symbol)) continue;
      try {
        await this.repo.insertDelivery({
          id: webhookDeliveryId(e.id, s.id),
          subscriptionId: s.id,
          eventId: e.id,
          subject: AnomalyDetectedV1.subject,
          body,
          status: 'pending',
          attempts: 0,
          maxAttempts,
          idempotencyKey: `${e.id}:${s.id}`,
          nextAttemptAt: now,
          leaseUntil: null,
          lastStatusCode: null,
          lastError: null,
          lastAttemptAt: null,
          deliveredAt: null,
          createdAt: now,
        });
        queued++;
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
      }
    }
    if (queued > 0) this.dispatcher?.kick();
    return queued;
  }
}
