import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DuplicateKeyError } from '@strata/platform-contracts';
import {
  StaticApiKeyResolver,
  type ApiKeyEntry,
  type ApiKeyResolver,
  type ApiPrincipal,
  type ApiRole,
} from '@strata/platform-http';
import {
  type ApiKeyRepository,
  type ApiKeyListQuery,
  type ApiKeyRecord,
  type StoredApiKey,
} from './api-key.repository';

/**
 * Format of a stored (issued) key: `strata_key_<id>_<secret>` where `<id>` is 12 lower-case base32 characters
 * (60 random bits, the public lookup prefix) and `<secret>` 43 base64url characters (256 random bits).
 */
export const ISSUED_KEY_PATTERN = /^strata_key_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer, length: number): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** SHA-256 of a key as a Buffer. */
function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** What an admin sees of a key: never the secret or its hash. */
export interface ApiKeyView {
  /** Public key id, `key_<id>`; appears in logs and audit fields. */
  id: string;
  name: string;
  role: ApiRole;
  status: 'active' | 'revoked' | 'expired';
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** A newly issued key: the view plus the plaintext key, shown exactly once. */
export interface IssuedApiKey extends ApiKeyView {
  key: string;
}

/** Options of {@link ApiKeyService}. */
export interface ApiKeyServiceOptions {
  /** How long a successful verification is cached in this process, ms (default 5000; 0 disables). Revocation
   *  through this service clears the cache at once; a revocation made by another replica is seen within this time. */
  cacheTtlMs?: number;
  /** Most verified keys cached at once (default 10,000); beyond it the oldest entry leaves. */
  cacheMaxEntries?: number;
  /** Clock (default `Date.now`), epoch ms. */
  now?: () => number;
}

/**
 * API key use cases on the {@link ApiKeyRepository}: issue, list, revoke, verify. Keys are 256-bit random secrets
 * with a public id prefix; only their SHA-256 is stored and compared in constant time.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, { principal: ApiPrincipal; until: number; id: string }>();
  private readonly now: () => number;
  private readonly cacheTtlMs: number;
  private readonly cacheMaxEntries: number;

  constructor(
    private readonly repo: ApiKeyRepository,
    opts: ApiKeyServiceOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.cacheTtlMs = opts.cacheTtlMs ?? 5_000;
    this.cacheMaxEntries = Math.max(1, opts.cacheMaxEntries ?? 10_000);
  }

  /** Issues a key. The plaintext is in the result only; store it now, it cannot be shown again. */
  async create(input: {
    name: string;
    role: ApiRole;
    expiresAt?: string | null;
    createdBy?: string | null;
  }): Promise<IssuedApiKey> {
    for (let attempt = 0; ; attempt++) {
      const id = `key_${base32(randomBytes(8), 12)}`;
      const key = `strata_key_${id.slice(4)}_${randomBytes(32).toString('base64url')}`;
      const record: ApiKeyRecord = {
        name: input.name,
        role: input.role,
        secretHash: digest(key).toString('hex'),
        hashAlgorithm: 'sha256',
        createdAt: new Date(this.now()).toISOString(),
        createdBy: input.createdBy ?? null,
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
        revokedBy: null,
      };
      try {
        const stored = await this.repo.insert(id, record);
        return { ...this.view(stored), key };
      } catch (err) {
        // A 60-bit id collision is astronomically unlikely; retry a few times rather than fail.
        if (!(err instanceof DuplicateKeyError) || attempt >= 3) throw err;
      }
    }
  }

  async get(id: string): Promise<ApiKeyView | null> {
    const k = await this.repo.get(id);
    return k ? this.view(k) : null;
  }

  /** Keys newest first, one page at a time. */
  async list(q: ApiKeyListQuery): Promise<{ items: ApiKeyView[]; nextCursor: string | null }> {
    const page = await this.repo.list(q);
    return { items: page.items.map((k) => this.view(k)), nextCursor: page.nextCursor };
  }

  /** Revokes a key at once (idempotent); `null` when unknown. */
  async revoke(id: string, by: string | null): Promise<ApiKeyView | null> {
    const k = await this.repo.revoke(id, new Date(this.now()).toISOString(), by);
    for (const [h, c] of this.cache) if (c.id === id) this.cache.delete(h);
    return k ? this.view(k) : null;
  }

  /**
   * The principal of an issued key, or `undefined` for anything else (wrong format, unknown id, wrong secret,
   * revoked, expired). Constant-time comparison of SHA-256 digests.
   */
  async verify(key: string): Promise<ApiPrincipal | undefined> {
    const m = ISSUED_KEY_PATTERN.exec(key);
    if (!m) return undefined;
    const d = digest(key);
    const cacheKey = d.toString('hex');
    const now = this.now();
    const hit = this.cache.get(cacheKey);
    if (hit) {
      if (hit.until > now) return hit.principal;
      this.cache.delete(cacheKey);
    }
    const id = `key_${m[1]}`;
    const k = await this.repo.get(id);
    if (!k || !timingSafeEqual(Buffer.from(k.secretHash, 'hex'), d)) return undefined;
    if (this.status(k, now) !== 'active') return undefined;
    const principal: ApiPrincipal = { role: k.role, keyId: id };
    if (this.cacheTtlMs > 0) {
      const until = Math.min(now + this.cacheTtlMs, k.expiresAt ? Date.parse(k.expiresAt) : Infinity);
      // Bounded: the oldest entry (Map insertion order) leaves first.
      if (this.cache.size >= this.cacheMaxEntries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(cacheKey, { principal, until, id });
    }
    return principal;
  }

  private status(k: ApiKeyRecord, now: number): ApiKeyView['status'] {
    if (k.revokedAt) return 'revoked';
    if (k.expiresAt && Date.parse(k.expiresAt) <= now) return 'expired';
    return 'active';
  }

  private view(k: StoredApiKey): ApiKeyView {
    return {
      id: k.id,
      name: k.name,
      role: k.role,
      status: this.status(k, this.now()),
      createdAt: k.createdAt,
      createdBy: k.createdBy,
      expiresAt: k.expiresAt,
      revokedAt: k.revokedAt,
      revokedBy: k.revokedBy,
    };
  }
}

/**
 * The {@link ApiKeyResolver} for `StrataHttpModule.forRoot({ apiKeys })`: issued keys from the repository first
 * (the primary source), then the keys from configuration (`STRATA_API_KEYS`, the bootstrap admin key), so an
 * operator can always get in to issue the first stored keys.
 */
export class StoredApiKeyResolver implements ApiKeyResolver {
  private readonly fallback: StaticApiKeyResolver;

  constructor(
    private readonly service: ApiKeyService,
    configKeys: readonly ApiKeyEntry[] = [],
  ) {
    this.fallback = new StaticApiKeyResolver(configKeys);
  }

  async resolve(key: string): Promise<ApiPrincipal | undefined> {
    return (await this.service.verify(key)) ?? this.fallback.resolve(key);
  }
}
