import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A stored artifact: content-addressed key, where it lives, its SHA-256 (hex) and size in bytes. */
export interface StoredArtifactRef {
  /** `sha256/<first two hex>/<sha256><extension>`; the same bytes always get the same key. */
  key: string;
  /** Location for humans and lineage (`file:///…` here, `s3://bucket/…` for an object store). */
  uri: string;
  sha256: string;
  bytes: number;
}

/** Key of bytes with this SHA-256 (hex) and extension (e.g. `.onnx`). */
export function artifactKey(sha256: string, extension = ''): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256}${extension}`;
}

const KEY_PATTERN = /^sha256\/[0-9a-f]{2}\/[0-9a-f]{64}(\.[a-z0-9]{1,16})?$/;

/**
 * Artifact store on a local directory (the embedded default: `<STRATA_DATA_DIR>/artifacts`). Content-addressed:
 * `put` hashes the bytes and writes them under their hash (write to a temporary file, then rename: a reader never
 * sees a partial file, and concurrent puts of the same bytes are harmless); `get` re-hashes what it reads and
 * refuses a file whose content no longer matches its key. Keys are validated, so no key escapes the root.
 * Implements the `ArtifactStore` port of `@strata/signals-feature`; an S3-compatible adapter keeps the same keys.
 */
export class LocalDirectoryArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Stores `bytes` under their SHA-256; idempotent (the same bytes → the same key, written once). */
  async put(bytes: Uint8Array, opts: { extension?: string } = {}): Promise<StoredArtifactRef> {
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
    let data: Buffer;
    try {
      data = await readFile(this.pathOf(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const sha = createHash('sha256').update(data).digest('hex');
    if (!key.includes(`/${sha}`)) throw new Error(`artifact ${key} is corrupt: its content hashes to ${sha}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Whether `key` is stored. */
  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch {
      return false;
    }
  }

  /** `file://` URI of a key. */
  uriOf(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new RangeError(`invalid artifact key ${JSON.stringify(key)}`);
    const p = join(this.root, ...key.split('/'));
    if (!p.startsWith(this.root + sep)) throw new RangeError(`artifact key ${key} escapes the store`);
    return p;
  }
}
