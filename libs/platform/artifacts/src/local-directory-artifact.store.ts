import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { artifactKey, parseArtifactKey, type ArtifactStore, type StoredArtifact } from '@strata/platform-contracts';

/**
 * Artifact store on a local directory (the embedded default: `<STRATA_DATA_DIR>/artifacts`). Content-addressed:
 * `put` hashes the bytes and writes them under their hash (write to a temporary file, then rename: a reader never
 * sees a partial file, and concurrent puts of the same bytes are harmless); `get` re-hashes what it reads and
 * refuses a file whose content no longer matches its key. Keys are validated, so no key escapes the root.
 * Implements the `ArtifactStore` port of `@strata/platform-contracts`.
 */
export class LocalDirectoryArtifactStore implements ArtifactStore {
  /** Absolute root directory. */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Stores `bytes` under their SHA-256; idempotent (the same bytes → the same key, written once). */
  async put(bytes: Uint8Array, opts: { extension?: string } = {}): Promise<StoredArtifact> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = artifactKey(sha256, opts.extension ?? '');
    const path = this.pathOf(key);
    if (!(await this.exists(key))) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${randomUUID()}.tmp`;
      await writeFile(tmp, bytes);
      try {
        await rename(tmp, path);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw e;
      }
    }
    return { key, uri: pathToFileURL(path).href, sha256, bytes: bytes.length };
  }

  /** The bytes under `key`, or null when there are none. @throws Error when the file's content no longer matches its hash. */
  async get(key: string): Promise<Uint8Array | null> {
    const path = this.pathOf(key);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const sha = createHash('sha256').update(data).digest('hex');
    if (sha !== parseArtifactKey(key)!.sha256)
      throw new Error(`artifact ${key} is corrupt: its content hashes to ${sha}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Whether `key` is stored. */
  async exists(key: string): Promise<boolean> {
    const path = this.pathOf(key);
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  }

  /** Removes `key` (no-op when absent). */
  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /** `file://` URI of a key. */
  uriOf(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  /** Absolute path of a key. @throws RangeError for a key that is not content-addressed. */
  pathOf(key: string): string {
    if (!parseArtifactKey(key)) throw new RangeError(`invalid artifact key ${JSON.stringify(key)}`);
    const p = join(this.root, ...key.split('/'));
    if (!p.startsWith(this.root + sep)) throw new RangeError(`artifact key ${key} escapes the store`);
    return p;
  }
}
