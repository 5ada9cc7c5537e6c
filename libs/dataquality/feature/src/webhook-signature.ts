import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = 'Strata-Signature';
/** Header carrying `<event id>:<subscription id>`: the same on every attempt and redelivery of one delivery. */
export const IDEMPOTENCY_KEY_HEADER = 'Strata-Idempotency-Key';
/** Header carrying the event subject (`dataquality.evt.anomaly.detected.v1`). */
export const EVENT_HEADER = 'Strata-Event';
/** Header carrying the delivery id (for support requests; not part of the signature). */
export const DELIVERY_HEADER = 'Strata-Delivery';
/** Replay window a receiver should allow between `t` and its own clock, seconds (docs/sentinel.md). */
export const DEFAULT_SIGNATURE_TOLERANCE_S = 300;

/** Hex HMAC-SHA256 over `<t>.<body>` with the subscription secret (UTF-8). */
export function webhookSignatureV1(secret: string, timestampS: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampS}.${body}`, 'utf8').digest('hex');
}

/** The `Strata-Signature` header value for a body sent at `timestampS` (unix seconds). */
export function signWebhook(secret: string, body: string, timestampS: number): string {
  return `t=${timestampS},v1=${webhookSignatureV1(secret, timestampS, body)}`;
}

/** Why {@link verifyWebhookSignature} refused a request. */
export type SignatureFailure = 'malformed' | 'timestamp_outside_tolerance' | 'signature_mismatch';

/**
 * Receiver side: checks a `Strata-Signature` header against the raw body. Accepts when some `v1` matches the HMAC of
 * `<t>.<body>` (constant-time compare) and `|now − t| ≤ toleranceS`. Rotating secrets: call once per candidate secret.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  opts: { nowS?: number; toleranceS?: number } = {},
): { ok: true; timestampS: number } | { ok: false; reason: SignatureFailure } {
  if (!header) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) sigs.push(v);
  }
  if (t === undefined || sigs.length === 0) return { ok: false, reason: 'malformed' };
  const now = opts.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceS ?? DEFAULT_SIGNATURE_TOLERANCE_S))
    return { ok: false, reason: 'timestamp_outside_tolerance' };
  const expected = Buffer.from(webhookSignatureV1(secret, t, body), 'hex');
  for (const s of sigs) if (timingSafeEqual(expected, Buffer.from(s, 'hex'))) return { ok: true, timestampS: t };
  return { ok: false, reason: 'signature_mismatch' };
}
