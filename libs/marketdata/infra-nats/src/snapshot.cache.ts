import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArtifactKey, type ArtifactStore } from '@strata/platform-contracts';

/** Where a snapshot came from on a read (for tests and metrics). */
export type SnapshotSource = 'memory' | 'disk' | 'store';

/**
 * The reader's local cache of content-addressed snapshots: a directory (`<dir>/<sha256>.arrow`, written once with
 * temp file + rename) and a small in-memory LRU of decoded windows. A file read from the directory is re-hashed and
 * must match its name; a mismatch (a corrupted or truncated file) is deleted and the snapshot fetched again from the
 * snapshots store (whose adapters verify the hash too). Decoded windows are shared between callers: read-only.
 */
export class SnapshotCache {
  private readonly lru = new Map<string, { value: unknown; bytes: number }>();
  private lruBytes = 0;
  /** Counters: where reads were answered from, and corrupted files found. */
  readonly stats = { memory: 0, disk: 0, store: 0, corrupt: 0 };

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

  /** The decoded snapshot `key` (`decode` runs once per load; `kind` separates decoders of the same bytes). */
  async get<T>(
    key: string,
    kind: string,
    decode: (bytes: Uint8Array) => T,
  ): Promise<{ value: T; source: SnapshotSource }> {
    const lruKey = `${kind}\u0000${key}`;
    const hit = this.lru.get(lruKey);
    if (hit) {
      this.lru.delete(lruKey);
      this.lru.set(lruKey, hit);
      this.stats.memory++;
      return { value: hit.value as T, source: 'memory' };
    }
    const sha256 = parseArtifactKey(key)!.sha256;
    let bytes = await this.readVerified(key, sha256);
    let source: SnapshotSource = 'disk';
    if (!bytes) {
      const fetched = await this.opts.snapshots.get(key);
      if (!fetched) throw new Error(`snapshot ${key} is not in the snapshots store`);
      bytes = fetched;
      source = 'store';
      await this.write(key, bytes);
    }
    this.stats[source]++;
    const value = decode(bytes);
    this.remember(lruKey, value, bytes.byteLength);
    return { value, source };
  }

  /** Forgets the decoded windows (the directory stays). */
  clearMemory(): void {
    this.lru.clear();
    this.lruBytes = 0;
  }

  private remember(k: string, value: unknown, bytes: number): void {
    const maxEntries = this.opts.memoryEntries ?? 8;
    const maxBytes = this.opts.memoryBytes ?? 512 * 1024 * 1024;
    if (maxEntries <= 0 || bytes > maxBytes) return;
    this.lru.set(k, { value, bytes });
    this.lruBytes += bytes;
    while (this.lru.size > maxEntries || this.lruBytes > maxBytes) {
      const [oldest, e] = this.lru.entries().next().value as [string, { bytes: number }];
      this.lru.delete(oldest);
      this.lruBytes -= e.bytes;
    }
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
    if (createHash('sha256').update(data).digest('hex') !== sha256) {
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
