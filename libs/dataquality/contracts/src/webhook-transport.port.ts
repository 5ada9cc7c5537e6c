/** One HTTP POST of a webhook delivery. */
export interface WebhookRequest {
  url: string;
  /** Header names as sent (Content-Type, Strata-Signature, Strata-Idempotency-Key, Strata-Event, …). */
  headers: Record<string, string>;
  /** The exact body bytes that were signed (UTF-8 JSON). */
  body: string;
  /** Abort the request after this many ms (connect + response headers + body). */
  timeoutMs: number;
}

/** What the receiver answered. Only the status counts (2xx = delivered); the body is kept short for the log. */
export interface WebhookResponse {
  status: number;
  /** The first ≤ 200 characters of the response body, for the delivery log. */
  bodyExcerpt?: string;
}

/**
 * Port: sends one webhook request. Resolves with the receiver's status (any status, 5xx included); rejects on
 * network errors, TLS errors and timeouts (the message says which). The HTTP adapter is `HttpWebhookTransport`
 * (`@strata/dataquality-infra-webhooks`).
 */
export interface WebhookTransport {
  post(req: WebhookRequest): Promise<WebhookResponse>;
}

/** Injection token of {@link WebhookTransport}. */
export const WEBHOOK_TRANSPORT = Symbol('WEBHOOK_TRANSPORT');
