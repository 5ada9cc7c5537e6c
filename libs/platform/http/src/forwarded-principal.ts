import { randomBytes, timingSafeEqual } from 'node:crypto';
import { API_ROLES, type ApiPrincipal } from './api-keys';

/**
 * Header in which the gateway forwards the principal it authenticated (`{"role":"viewer","keyId":"key_…"}`). An owner
 * trusts it only together with {@link INTERNAL_TOKEN_HEADER} carrying this process's {@link internalRequestToken}:
 * a client that sends it over HTTP gets no more than its own API key gives it.
 */
export const FORWARDED_PRINCIPAL_HEADER = 'strata-forwarded-principal';

/**
 * Header the owner's own bus handler adds to a forwarded request just before `inject`: this process's
 * {@link internalRequestToken}. Never sent over the network (the gateway strips it, the bus handler overwrites it).
 */
export const INTERNAL_TOKEN_HEADER = 'strata-internal-token';

// Random per process: nothing outside this process (a client, another service, the gateway) can know it.
const TOKEN = randomBytes(32).toString('base64url');
const TOKEN_BYTES = Buffer.from(TOKEN);

/** This process's internal request token (32 random bytes, base64url): marks requests its own bus handler injected. */
export function internalRequestToken(): string {
  return TOKEN;
}

/** True when `value` is this process's {@link internalRequestToken} (constant-time comparison). */
export function isInternalRequest(value: string | string[] | undefined): boolean {
  if (typeof value !== 'string' || value.length !== TOKEN.length) return false;
  return timingSafeEqual(Buffer.from(value), TOKEN_BYTES);
}

/** Encodes a principal for {@link FORWARDED_PRINCIPAL_HEADER}. */
export function encodeForwardedPrincipal(p: ApiPrincipal): string {
  return JSON.stringify({ role: p.role, keyId: p.keyId });
}

/**
 * The principal a gateway forwarded, when the request was injected by this process's bus handler (internal token
 * present and right) and the header names a known role; otherwise undefined (the request authenticates as usual).
 */
export function forwardedPrincipal(headers: Record<string, string | string[] | undefined>): ApiPrincipal | undefined {
  const raw = headers[FORWARDED_PRINCIPAL_HEADER];
  if (typeof raw !== 'string' || !isInternalRequest(headers[INTERNAL_TOKEN_HEADER])) return undefined;
  try {
    const p = JSON.parse(raw) as Partial<ApiPrincipal>;
    if (!(API_ROLES as readonly string[]).includes(p.role as string) || typeof p.keyId !== 'string') return undefined;
    return { role: p.role!, keyId: p.keyId };
  } catch {
    return undefined;
  }
}
