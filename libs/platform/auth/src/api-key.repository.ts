import {
  type DocumentCollection,
  type DocumentStore,
  type Page,
  type StoredDocument,
} from '@strata/platform-contracts';
import { type ApiRole } from '@strata/platform-http';

/** Injection token of the {@link ApiKeyRepository}. */
export const API_KEY_REPOSITORY = Symbol('API_KEY_REPOSITORY');

/**
 * One stored API key. The secret is never stored: only `secretHash`, the SHA-256 (hex) of the whole key, which is
 * enough for 256-bit random keys (no dictionary to attack, so a slow hash such as scrypt adds nothing). Times are
 * ISO-8601 UTC. Revoked and expired keys are kept for audit.
 */
export interface ApiKeyRecord {
  /** Human label, e.g. `ci-ingest`. */
  name: string;
  role: ApiRole;
  /** SHA-256 of the full key, lower-case hex. */
  secretHash: string;
  hashAlgorithm: 'sha256';
  createdAt: string;
  /** Key id of the admin who created it, or `null` (bootstrap, CLI). */
  createdBy: string | null;
  /** After this instant the key no longer authenticates; `null` = never. */
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** A stored key; its `id` is the public key id `key_<12 base32 chars>` (also the lookup prefix inside the key). */
export type StoredApiKey = StoredDocument<ApiKeyRecord>;

/** Query of {@link ApiKeyRepository.list}. */
export interface ApiKeyListQuery {
  /** Include revoked keys (default false). */
  includeRevoked?: boolean;
  role?: ApiRole;
  limit: number;
  cursor?: string | null;
}

/**
 * Repository of API keys on the document-store port (collection `api_keys`), so keys live in MongoDB in production
 * and in the embedded DuckDB file by default.
 */
export class ApiKeyRepository {
  private readonly keys: DocumentCollection<ApiKeyRecord>;

  constructor(store: DocumentStore) {
    this.keys = store.collection<ApiKeyRecord>({
      name: 'api_keys',
      indexes: [{ fields: ['revokedAt', 'createdAt'] }, { fields: ['role'] }],
    });
  }

  /** Stores a new key under its key id; throws `DuplicateKeyError` if the id is taken (regenerate and retry). */
  insert(id: string, record: ApiKeyRecord): Promise<StoredApiKey> {
    return this.keys.insert({ id, ...record });
  }

  get(id: string): Promise<StoredApiKey | null> {
    return this.keys.get(id);
  }

  /** Newest first. */
  list(q: ApiKeyListQuery): Promise<Page<ApiKeyRecord>> {
    return this.keys.page({
      filter: { ...(q.includeRevoked ? {} : { revokedAt: null }), ...(q.role ? { role: q.role } : {}) },
      sort: { field: 'createdAt', direction: 'desc' },
      limit: q.limit,
      cursor: q.cursor,
    });
  }

  /** Marks a key revoked (idempotent: an already revoked key keeps its first revocation). `null` when unknown. */
  async revoke(id: string, at: string, by: string | null): Promise<StoredApiKey | null> {
    const current = await this.keys.get(id);
    if (!current) return null;
    return this.keys.updateWithRetry(id, (k) => (k.revokedAt ? null : { set: { revokedAt: at, revokedBy: by } }));
  }

  /** Number of active (unrevoked) keys with this role. */
  countActive(role: ApiRole): Promise<number> {
    return this.keys.count({ role, revokedAt: null });
  }
}
