import { createHash } from 'node:crypto';
import { DOCSTORE_SCHEMA, DuckDbDocumentStore } from '@strata/platform-document-store';
import { DuckDb } from '@strata/platform-duckdb';
import { parseApiKeys } from '@strata/platform-http';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService, ISSUED_KEY_PATTERN, StoredApiKeyResolver } from './api-keys.service';

describe('ApiKeyService on the embedded document store', () => {
  let store: DuckDbDocumentStore;
  let repo: ApiKeyRepository;
  let clock: number;
  let service: ApiKeyService;

  beforeEach(async () => {
    store = new DuckDbDocumentStore(await DuckDb.create(':memory:'));
    repo = new ApiKeyRepository(store);
    clock = Date.UTC(2024, 0, 1);
    service = new ApiKeyService(repo, { now: () => clock });
  });
  afterEach(() => store.close());

  it('issues a 256-bit key with a public id prefix and stores only its SHA-256', async () => {
    const issued = await service.create({ name: 'ci', role: 'operator', createdBy: 'key_admin' });
    const m = ISSUED_KEY_PATTERN.exec(issued.key);
    expect(m).not.toBeNull();
    expect(issued.id).toBe(`key_${m![1]}`);
    expect(Buffer.from(m![2], 'base64url')).toHaveLength(32);
    expect(issued).toMatchObject({
      name: 'ci',
      role: 'operator',
      status: 'active',
      createdBy: 'key_admin',
      createdAt: '2024-01-01T00:00:00.000Z',
      revokedAt: null,
    });
    const stored = await repo.get(issued.id);
    expect(stored?.secretHash).toBe(createHash('sha256').update(issued.key).digest('hex'));
    // Neither the key nor its secret part is anywhere in the database.
    const rows = await store.db.all<{ doc: string }>(`SELECT doc::VARCHAR AS doc FROM ${DOCSTORE_SCHEMA}."api_keys"`);
    expect(rows).toHaveLength(1);
    expect(rows[0].doc).not.toContain(m![2]);
    expect(JSON.stringify(await service.get(issued.id))).not.toContain('secretHash');
  });

  it('verifies the key; refuses a wrong secret, another format and an unknown id', async () => {
    const { key, id } = await service.create({ name: 'v', role: 'viewer' });
    expect(await service.verify(key)).toEqual({ role: 'viewer', keyId: id });
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    expect(await service.verify(key.slice(0, -1) + last)).toBeUndefined();
    expect(await service.verify(key.replace(/_k(?=ey_)/, '_x'))).toBeUndefined();
    expect(await service.verify(`strata_key_${'a'.repeat(12)}_${'A'.repeat(43)}`)).toBeUndefined();
    expect(await service.verify('admin-key-1')).toBeUndefined();
  });

  it('revocation takes effect at once in this process, is idempotent and kept for audit', async () => {
    const { key, id } = await service.create({ name: 'r', role: 'admin' });
    expect(await service.verify(key)).toBeDefined(); // now cached
    const revoked = await service.revoke(id, 'key_boss');
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: '2024-01-01T00:00:00.000Z', revokedBy: 'key_boss' });
    expect(await service.verify(key)).toBeUndefined();
    clock += 1000;
    expect(await service.revoke(id, 'key_other')).toMatchObject({
      revokedBy: 'key_boss',
      revokedAt: '2024-01-01T00:00:00.000Z',
    });
    expect(await service.revoke('key_unknown', null)).toBeNull();
  });

  it('a revocation by another replica is seen once the verification cache expires', async () => {
    const replica = new ApiKeyService(repo, { now: () => clock, cacheTtlMs: 5_000 });
    const { key, id } = await service.create({ name: 'c', role: 'viewer' });
    expect(await replica.verify(key)).toBeDefined();
    await service.revoke(id, null);
    clock += 4_000;
    expect(await replica.verify(key)).toBeDefined();
    clock += 1_001;
    expect(await replica.verify(key)).toBeUndefined();
  });

  it('keeps at most cacheMaxEntries verified keys: the oldest leaves and is looked up again', async () => {
    const small = new ApiKeyService(repo, { now: () => clock, cacheTtlMs: 60_000, cacheMaxEntries: 2 });
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(await service.create({ name: `b${i}`, role: 'viewer' }));
    for (const k of keys) expect(await small.verify(k.key)).toBeDefined();
    // Revoked by another replica: the evicted (oldest) key is read from the store again, the cached one is not yet.
    await service.revoke(keys[0].id, null);
    await service.revoke(keys[2].id, null);
    expect(await small.verify(keys[0].key)).toBeUndefined();
    expect(await small.verify(keys[2].key)).toBeDefined();
  });

  it('an expired key stops working', async () => {
    const { key, id } = await service.create({ name: 'e', role: 'viewer', expiresAt: '2024-01-01T01:00:00.000Z' });
    expect(await service.verify(key)).toBeDefined();
    clock = Date.parse('2024-01-01T01:00:00.000Z');
    expect(await service.verify(key)).toBeUndefined();
    expect(await service.get(id)).toMatchObject({ status: 'expired' });
  });

  it('lists newest first with cursor pagination, active keys unless asked for revoked ones', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock += 1_000;
      ids.push((await service.create({ name: `k${i}`, role: 'viewer' })).id);
    }
    await service.revoke(ids[1], null);
    const p1 = await service.list({ limit: 2 });
    expect(p1.items.map((k) => k.name)).toEqual(['k4', 'k3']);
    const p2 = await service.list({ limit: 2, cursor: p1.nextCursor });
    expect(p2.items.map((k) => k.name)).toEqual(['k2', 'k0']);
    expect(p2.nextCursor).toBeNull();
    expect((await service.list({ limit: 10, includeRevoked: true })).items.map((k) => k.name)).toEqual([
      'k4',
      'k3',
      'k2',
      'k1',
      'k0',
    ]);
  });

  it('StoredApiKeyResolver: issued keys first, then config keys (bootstrap admin)', async () => {
    const resolver = new StoredApiKeyResolver(service, parseApiKeys('admin:bootstrap-admin-key'));
    const { key, id } = await service.create({ name: 'op', role: 'operator' });
    expect(await resolver.resolve(key)).toEqual({ role: 'operator', keyId: id });
    expect(await resolver.resolve('bootstrap-admin-key')).toMatchObject({
      role: 'admin',
      keyId: expect.stringMatching(/^key_[0-9a-f]{12}$/),
    });
    expect(await resolver.resolve('nope-nope-nope')).toBeUndefined();
  });

  it('keys survive a restart of the embedded store', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'strata-auth-'));
    try {
      const file = join(dir, 'strata.duckdb');
      const s1 = new DuckDbDocumentStore(await DuckDb.create(file));
      const issued = await new ApiKeyService(new ApiKeyRepository(s1)).create({ name: 'p', role: 'admin' });
      await s1.close();
      const s2 = new DuckDbDocumentStore(await DuckDb.create(file));
      expect(await new ApiKeyService(new ApiKeyRepository(s2)).verify(issued.key)).toEqual({
        role: 'admin',
        keyId: issued.id,
      });
      await s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
