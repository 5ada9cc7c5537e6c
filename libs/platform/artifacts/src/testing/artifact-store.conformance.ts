/**
 * THE conformance suite of the `ArtifactStore` port (CONVENTIONS.md, Ports and adapters): every adapter runs exactly
 * these tests. Call {@link artifactStoreConformance} inside a `describe` of the adapter's spec. Expected keys and
 * hashes are computed here with node:crypto, independently of any adapter.
 */
import { createHash, randomBytes } from 'node:crypto';
import { artifactKey, type ArtifactStore } from '@strata/platform-contracts';

/** What an adapter's spec provides to the suite. */
export interface ArtifactStoreHarness {
  /** A store on an empty, private location (directory, bucket). Called before each test. */
  open(): Promise<ArtifactStore>;
  /** Removes the store's location. Called after each test. */
  dispose(store: ArtifactStore): Promise<void>;
  /** Writes `bytes` under `key` behind the port's back (a corruption the adapter must detect). */
  plant(store: ArtifactStore, key: string, bytes: Uint8Array): Promise<void>;
  /** URI scheme the adapter reports, e.g. `file:` or `nats-obj:`. */
  uriScheme: string;
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Registers the conformance tests for one adapter. */
export function artifactStoreConformance(harness: ArtifactStoreHarness): void {
  let store: ArtifactStore;
  jest.setTimeout(60_000);

  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    if (store) await harness.dispose(store);
  });

  it('stores bytes under their SHA-256 and reads exactly them back', async () => {
    const bytes = new TextEncoder().encode('model bytes');
    const sha = sha256Hex(bytes);
    const a = await store.put(bytes, { extension: '.onnx' });
    expect(a.key).toBe(`sha256/${sha.slice(0, 2)}/${sha}.onnx`);
    expect(a.key).toBe(artifactKey(sha, '.onnx'));
    expect(a.sha256).toBe(sha);
    expect(a.bytes).toBe(bytes.length);
    expect(a.uri.startsWith(`${harness.uriScheme}//`)).toBe(true);
    expect(a.uri).toBe(store.uriOf(a.key));
    expect(await store.exists(a.key)).toBe(true);
    expect(Buffer.from((await store.get(a.key))!).toString()).toBe('model bytes');
  });

  it('is idempotent: the same bytes give the same key, and a different extension a different key', async () => {
    const bytes = randomBytes(4096);
    const a = await store.put(bytes);
    const b = await store.put(new Uint8Array(bytes));
    expect(b).toEqual(a);
    const c = await store.put(bytes, { extension: '.arrow' });
    expect(c.key).toBe(`${a.key}.arrow`);
    expect(Buffer.compare(Buffer.from((await store.get(c.key))!), bytes)).toBe(0);
  });

  it('stores an empty object', async () => {
    const a = await store.put(new Uint8Array(0));
    expect(a.key).toBe(artifactKey(sha256Hex(new Uint8Array(0))));
    expect((await store.get(a.key))!.length).toBe(0);
  });

  it('answers null / false for an absent key; delete removes a key and is idempotent', async () => {
    const missing = `sha256/00/00${'0'.repeat(62)}`;
    expect(await store.get(missing)).toBeNull();
    expect(await store.exists(missing)).toBe(false);
    await store.delete(missing);
    const a = await store.put(new Uint8Array([1, 2, 3]));
    await store.delete(a.key);
    expect(await store.exists(a.key)).toBe(false);
    expect(await store.get(a.key)).toBeNull();
    await store.delete(a.key);
    const again = await store.put(new Uint8Array([1, 2, 3]));
    expect(Array.from((await store.get(again.key))!)).toEqual([1, 2, 3]);
  });

  it('refuses keys that are not content-addressed (no lookup outside the store)', async () => {
    const bad = [
      '../etc/passwd',
      `sha256/00/${'0'.repeat(64)}/../../x`,
      `sha256/ab/${'0'.repeat(64)}`, // prefix is not the hash's first two digits
      `sha256/00/${'0'.repeat(63)}`,
      `sha256/00/${'0'.repeat(64)}.ONNX`,
      'model.onnx',
    ];
    for (const key of bad) {
      await expect(store.get(key)).rejects.toThrow(/invalid artifact key/);
      await expect(store.exists(key)).rejects.toThrow(/invalid artifact key/);
      await expect(store.delete(key)).rejects.toThrow(/invalid artifact key/);
    }
  });

  it('detects an object whose content no longer matches its key', async () => {
    const a = await store.put(new Uint8Array([1, 2, 3]), { extension: '.bin' });
    await harness.plant(store, a.key, new Uint8Array([9, 9, 9]));
    await expect(store.get(a.key)).rejects.toThrow(/corrupt/);
  });

  it('round-trips a 12 MB object byte for byte', async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 17);
    const a = await store.put(bytes, { extension: '.csv' });
    expect(a.bytes).toBe(bytes.length);
    expect(a.sha256).toBe(sha256Hex(bytes));
    const back = (await store.get(a.key))!;
    expect(back.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.byteLength), bytes)).toBe(0);
  });
}
