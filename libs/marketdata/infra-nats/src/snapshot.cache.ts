import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArtifactKey, type ArtifactStore } from '@strata/platform-contracts';

/** Where a window came from on a read (for tests and metrics). */
export type SnapshotSource = 'memory' | 'disk' | 'service' | 'store';

/** Fetches a snapshot's bytes from somewhere faster than the store (the marketdata service); null: not there. */
export type SnapshotFetch = (key: string) => Promise<Uint8Array | null>;

/** SHA-256 of bytes, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The reader's local cache of windows by content hash: a directory of snapshots (`<dir>/<sha256>.arrow`, written
 * once with temp file + rename) and a small in-memory LRU of decoded windows (snapshots and inline replies alike).
 * A file read from the directory is re-hashed and must match its name; a mismatch (a corrupted or truncated file) is
 * deleted and the snapshot fetched again. Bytes fetched from the service are verified the same way; the snapshots
 * store's adapters verify their own. Decoded windows are shared between callers: read-only.
 */
export class SnapshotCache {
  private readonly lru = new Map<string, { value: unknown; bytes: number }>();
  private lruBytes = 0;
  /** Counters: where reads were answered from, and corrupted files or transfers found. */
  readonly stats = { memory: 0, disk: 0, service: 0, store: 0, corrupt: 0 };

  constructor(
    private readonly opts: {
      dir: string;
      snapshots: ArtifactStore;
      /** Decoded windows kept in memory (default 8). */
      memoryEntries?: number;
      /** Bytes of IPC behind the decoded windows kept in memory (default 512 MiB). */
      memoryBytes?: number;
    },
  ) {}

  /** The file a snapshot is cached in. */
  pathOf(key: string): string {
    const parsed = parseArtifactKey(key);
    if (!parsed) throw new RangeError(`not a snapshot key: ${JSON.stringify(key)}`);
    return join(this.opts.dir, `${parsed.sha256}${parsed.extension}`);
  }

  /** Whether the decoded window with this content hash is in memory. */
  has(kind: string, sha256: string): boolean {
    return this.lru.has(`${kind}\u0000${sha256}`);
  }

  /** The decoded window with this content hash, when it is in memory. */
  peek<T>(kind: string, sha256: string): T | undefined {
    const k = `${kind}\u0000${sha256}`;
    const hit = this.lru.get(k);
    if (!hit) return undefined;
    this.lru.delete(k);
    this.lru.set(k, hit);
    this.stats.memory++;
    return hit.value as T;
  }

  /** Keeps a decoded window in memory under its content hash. */
  remember(kind: string, sha256: string, value: unknown, bytes: number): void {
    const maxEntries = this.opts.memoryEntries ?? 8;
    const maxBytes = this.opts.memoryBytes ?? 512 * 1024 * 1024;
    if (maxEntries <= 0 || bytes > maxBytes) return;
    const k = `${kind}\u0000${sha256}`;
    const old = this.lru.get(k);
    if (old) {
      this.lru.delete(k);
      this.lruBytes -= old.bytes;
    }
    this.lru.set(k, { value, bytes });
    this.lruBytes += bytes;
    while (this.lru.size > maxEntries || this.lruBytes > maxBytes) {
      const [oldest, e] = this.lru.entries().next().value as [string, { bytes: number }];
      this.lru.delete(oldest);
      this.lruBytes -= e.bytes;
    }
  }

  /**
   * The decoded snapshot `key`: from memory, else the directory (hash checked), else `fetch` (the service; hash
   * checked), else the snapshots store; fetched bytes are written to the directory. `kind` separates decoders.
   */
  async get<T>(
    key: string,
    kind: string,
    decode: (bytes: Uint8Array) => T,
    fetch?: SnapshotFetch,
  ): Promise<{ value: T; source: SnapshotSource }> {
    const parsed = parseArtifactKey(key);
    if (!parsed) throw new RangeError(`not a snapshot key: ${JSON.stringify(key)}`);
    const { sha256 } = parsed;
    const hit = this.peek<T>(kind, sha256);
    if (hit !== undefined) return { value: hit, source: 'memory' };
    let source: SnapshotSource = 'disk';
    let bytes = await this.readVerified(key, sha256);
    if (!bytes && fetch) {
      const got = await fetch(key).catch(() => null);
      if (got && sha256Hex(got) === sha256) {
        bytes = got;
        source = 'service';
        this.writeInBackground(key, got);
      } else if (got) this.stats.corrupt++;
    }
    if (!bytes) {
      const fetched = await this.opts.snapshots.get(key);
      if (!fetched) throw new Error(`snapshot ${key} is not in the snapshots store`);
      bytes = fetched;
      source = 'store';
      this.writeInBackground(key, fetched);
    }
    this.stats[source]++;
    const value = decode(bytes);
    this.remember(kind, sha256, value, bytes.byteLength);
    return { value, source };
  }

  /** Resolves when the cache files being written are on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.writing]);
  }

  private readonly writing = new Set<Promise<void>>();

  /** Writes a verified snapshot to the directory without holding up the read (temp file + rename: atomic). */
  private writeInBackground(key: string, bytes: Uint8Array): void {
    const p = this.write(key, bytes)
      .catch(() => undefined)
      .finally(() => this.writing.delete(p));
    this.writing.add(p);
  }

  /** Forgets the decoded windows (the directory stays). */
  clearMemory(): void {
    this.lru.clear();
    this.lruBytes = 0;
  }

  private async readVerified(key: string, sha256: string): Promise<Uint8Array | null> {
    const path = this.pathOf(key);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    if (sha256Hex(data) !== sha256) {
      this.stats.corrupt++;
      await unlink(path).catch(() => undefined);
      return null;
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  private async write(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(this.opts.dir, { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path).catch(async (e) => {
      await unlink(tmp).catch(() => undefined);
      throw e;
    });
  }
}
