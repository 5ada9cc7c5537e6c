import type { WebhookRequest, WebhookResponse, WebhookTransport } from '@strata/dataquality-contracts';

/**
 * Webhook delivery over HTTP(S) with Node's fetch (the `WebhookTransport` port of `@strata/dataquality-contracts`).
 * Resolves with any status the receiver answers (the dispatcher decides what is a success); rejects with a readable
 * message on timeouts (`timeout after <n> ms`) and network / TLS errors. Redirects are not followed (a 3xx is the
 * receiver's answer), so a signed body never goes to a host the subscription did not name. Reads at most the first
 * 200 characters of the response body for the delivery log.
 */
export class HttpWebhookTransport implements WebhookTransport {
  constructor(private readonly opts: { userAgent?: string } = {}) {}

  async post(req: WebhookRequest): Promise<WebhookResponse> {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), req.timeoutMs);
    try {
      const res = await fetch(req.url, {
        method: 'POST',
        headers: { 'User-Agent': this.opts.userAgent ?? 'Strata-Webhooks/1', ...req.headers },
        body: req.body,
        redirect: 'manual',
        signal: ctrl.signal,
      });
      let bodyExcerpt: string | undefined;
      try {
        bodyExcerpt = (await res.text()).slice(0, 200);
      } catch {
        bodyExcerpt = undefined;
      }
      return { status: res.status, bodyExcerpt };
    } catch (err) {
      if (ctrl.signal.aborted) throw new Error(`timeout after ${req.timeoutMs} ms`);
      // undici wraps the socket error: "fetch failed" with the useful part in `cause`.
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const detail = e.cause?.message ?? e.message;
      throw new Error(e.cause?.code && !detail.includes(e.cause.code) ? `${e.cause.code}: ${detail}` : detail);
    } finally {
      clearTimeout(timer);
    }
  }
}
