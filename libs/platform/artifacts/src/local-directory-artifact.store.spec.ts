import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDirectoryArtifactStore } from './local-directory-artifact.store';

describe('LocalDirectoryArtifactStore', () => {
  let dir: string;
  let store: LocalDirectoryArtifactStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'artifacts-'));
    store = new LocalDirectoryArtifactStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores bytes under their SHA-256, idempotently, and reads them back', async () => {
    const bytes = new TextEncoder().encode('model bytes');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const a = await store.put(bytes, { extension: '.onnx' });
    const b = await store.put(bytes, { extension: '.onnx' });
    expect(a).toEqual(b);
    expect(a.key).toBe(`sha256/${sha.slice(0, 2)}/${sha}.onnx`);
    expect(a.sha256).toBe(sha);
    expect(a.bytes).toBe(bytes.length);
    expect(a.uri.startsWith('file://')).toBe(true);
    expect(await store.exists(a.key)).toBe(true);
    expect(Buffer.from((await store.get(a.key))!).toString()).toBe('model bytes');
    expect(await readdir(join(dir, 'sha256', sha.slice(0, 2)))).toEqual([`${sha}.onnx`]);
  });

  it('answers null / false for a missing key and refuses keys that could escape the root', async () => {
    const missing = `sha256/00/${'0'.repeat(64)}`;
    expect(await store.get(missing)).toBeNull();
    expect(await store.exists(missing)).toBe(false);
    await expect(store.get('../etc/passwd')).rejects.toThrow(/invalid artifact key/);
    await expect(store.get(`sha256/00/${'0'.repeat(64)}/../../x`)).rejects.toThrow(/invalid artifact key/);
  });

  it('detects a corrupted file', async () => {
    const a = await store.put(new Uint8Array([1, 2, 3]));
    await writeFile(join(dir, ...a.key.split('/')), new Uint8Array([9, 9, 9]));
    await expect(store.get(a.key)).rejects.toThrow(/corrupt/);
  });
});
