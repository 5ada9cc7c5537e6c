import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  type DocumentChange,
  type DocumentCollection,
  type DocumentStore,
  type NewDocument,
  type Page,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  type DataQualitySeverity,
  type WebhookDeliveryDto,
  type WebhookDeliveryStatus,
  type WebhookSubscriptionDto,
} from '@strata/dataquality-contracts';
import { createHash } from 'node:crypto';

/** A webhook subscription document (collection `webhook_subscriptions`). `secret` never leaves the service. */
export interface WebhookSubscriptionDoc {
  url: string;
  minSeverity: DataQualitySeverity;
  /** Upper-case symbols; empty = every symbol. */
  symbols: string[];
  /** HMAC-SHA256 signing secret (write-only through the API). */
  secret: string;
  description: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** Key id of the admin who created it. */
  createdBy: string | null;
}

/** A delivery document (collection `webhook_deliveries`, id = {@link webhookDeliveryId}). Times ISO-8601 UTC. */
export interface WebhookDeliveryDoc {
  subscriptionId: string;
  eventId: string;
  subject: string;
  /** The exact JSON body signed and sent on every attempt. */
  body: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  maxAttempts: number;
  idempotencyKey: string;
  /** When the next attempt is due (`pending`), else null. */
  nextAttemptAt: string | null;
  /** A dispatcher's claim on an `in_flight` delivery; after it passes another dispatcher may take it over. */
  leaseUntil: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** `dl_` + 32 hex of SHA-256 of `<event id>:<subscription id>`: one delivery per event and subscription, ever. */
export function webhookDeliveryId(eventId: string, subscriptionId: string): string {
  return `dl_${createHash('sha256').update(`${eventId}:${subscriptionId}`).digest('hex').slice(0, 32)}`;
}

/** REST form of a subscription (no secret). */
export function toSubscriptionDto(d: StoredDocument<WebhookSubscriptionDoc>): WebhookSubscriptionDto {
  return {
    id: d.id,
    url: d.url,
    minSeverity: d.minSeverity,
    symbols: d.symbols,
    description: d.description,
    enabled: d.enabled,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    createdBy: d.createdBy,
  };
}

/** REST form of a delivery (no body, no lease). */
export function toDeliveryDto(d: StoredDocument<WebhookDeliveryDoc>): WebhookDeliveryDto {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    eventId: d.eventId,
    subject: d.subject,
    status: d.status,
    attempts: d.attempts,
    maxAttempts: d.maxAttempts,
    idempotencyKey: d.idempotencyKey,
    nextAttemptAt: d.nextAttemptAt,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    lastAttemptAt: d.lastAttemptAt,
    deliveredAt: d.deliveredAt,
    createdAt: d.createdAt,
  };
}

/** Webhook subscriptions and their deliveries in the document store. */
@Injectable()
export class WebhooksRepository {
  readonly subscriptions: DocumentCollection<WebhookSubscriptionDoc>;
  readonly deliveries: DocumentCollection<WebhookDeliveryDoc>;

  constructor(@Inject(DOCUMENT_STORE) store: DocumentStore) {
    this.subscriptions = store.collection<WebhookSubscriptionDoc>({
      name: 'webhook_subscriptions',
      indexes: [{ fields: ['enabled'] }, { fields: ['createdAt'] }],
    });
    this.deliveries = store.collection<WebhookDeliveryDoc>({
      name: 'webhook_deliveries',
      indexes: [
        { fields: ['subscriptionId', 'createdAt'] },
        { fields: ['status', 'nextAttemptAt'] },
        { fields: ['status', 'leaseUntil'] },
      ],
    });
  }

  /** Every enabled subscription (paged through internally). */
  async enabledSubscriptions(): Promise<StoredDocument<WebhookSubscriptionDoc>[]> {
    const out: StoredDocument<WebhookSubscriptionDoc>[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<WebhookSubscriptionDoc> = await this.subscriptions.page({
        filter: { enabled: true },
        limit: 1000,
        cursor,
      });
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  insertDelivery(doc: NewDocument<WebhookDeliveryDoc>): Promise<StoredDocument<WebhookDeliveryDoc>> {
    return this.deliveries.insert(doc);
  }

  /** Pending deliveries due by `nowIso`, earliest first. */
  due(nowIso: string, limit: number): Promise<Page<WebhookDeliveryDoc>> {
    return this.deliveries.page({
      filter: { status: 'pending', nextAttemptAt: { $lte: nowIso } },
      sort: { field: 'nextAttemptAt', direction: 'asc' },
      limit,
    });
  }

  /** In-flight deliveries whose dispatcher lease ran out (a crashed or stopped dispatcher), oldest lease first. */
  abandoned(nowIso: string, limit: number): Promise<Page<WebhookDeliveryDoc>> {
    return this.deliveries.page({
      filter: { status: 'in_flight', leaseUntil: { $lt: nowIso } },
      sort: { field: 'leaseUntil', direction: 'asc' },
      limit,
    });
  }

  /** Compare-and-set on `_version` (VersionConflictError when another dispatcher got there first). */
  updateDelivery(
    id: string,
    expectedVersion: number,
    change: DocumentChange<WebhookDeliveryDoc>,
  ): Promise<StoredDocument<WebhookDeliveryDoc>> {
    return this.deliveries.update(id, expectedVersion, change);
  }

  /** A subscription's deliveries, newest first. */
  deliveriesOf(
    subscriptionId: string,
    req: { status?: WebhookDeliveryStatus; limit: number; cursor?: string | null },
  ): Promise<Page<WebhookDeliveryDoc>> {
    return this.deliveries.page({
      filter: { subscriptionId, ...(req.status ? { status: req.status } : {}) },
      sort: { field: 'createdAt', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
  }
}
