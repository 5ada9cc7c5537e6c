import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { artifactKey, parseArtifactKey, type ArtifactStore, type StoredArtifact } from '@strata/platform-contracts';

/** Options of {@link ObjectStoreArtifactStore.open}. */
export interface ObjectStoreArtifactStoreOptions {
  /** Object Store bucket (e.g. `strata-artifacts`); created when missing. */
  bucket: string;
  /** Age after which the server removes an object, ms; unset: kept forever (the staging bucket sets one). */
  ttlMs?: number;
  /** Stream replicas when the bucket is created (default 1). */
  replicas?: number;
  /** Timeout of each chunk publish, ms (default: the JetStream client's). */
  timeoutMs?: number;
}

/**
 * Artifact store on a JetStream Object Store bucket: the shared store of the split deployment (every replica of every
 * service sees the same bytes). Keys are exactly those of `LocalDirectoryArtifactStore` (`sha256/<2 hex>/<sha256><ext>`)
 * and are the object names; URIs are `nats-obj://<bucket>/<key>`. `put` is idempotent (an object already stored under
 * the key is not rewritten, unless the bucket has a TTL and the object is past half of it, so staged bytes never expire
 * right after a put that skipped the write); objects are chunked by the client (128 KiB) so any size fits under the
 * server's max payload. `get` checks the Object Store's own digest and re-hashes the bytes against the key.
 * Implements the `ArtifactStore` port of `@strata/platform-contracts`.
 */
export class ObjectStoreArtifactStore implements ArtifactStore {
  private constructor(
    /** Bucket name. */
    readonly bucket: string,
    private readonly os: ObjectStore,
    private readonly ttlMs: number | undefined,
    private readonly timeoutMs: number | undefined,
  ) {}

  /** Opens (creating when missing) the bucket. */
  static async open(nc: NatsConnection, opts: ObjectStoreArtifactStoreOptions): Promise<ObjectStoreArtifactStore> {
    const os = await new Objm(nc).create(opts.bucket, {
      ...(opts.ttlMs ? { ttl: opts.ttlMs * 1_000_000 } : {}),
      replicas: opts.replicas ?? 1,
    });
    return new ObjectStoreArtifactStore(opts.bucket, os, opts.ttlMs, opts.timeoutMs);
  }

  /** Stores `bytes` under their SHA-256; idempotent (the same bytes → the same key, written once). */
  async put(bytes: Uint8Array, opts: { extension?: string } = {}): Promise<StoredArtifact> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = artifactKey(sha256, opts.extension ?? '');
    const info = await this.os.info(key);
    const fresh =
      info !== null &&
      !info.deleted &&
      info.size === bytes.length &&
      (this.ttlMs === undefined || Date.now() - Date.parse(info.mtime) < this.ttlMs / 2);
    if (!fresh) await this.os.putBlob({ name: key }, bytes, this.timeoutMs ? { timeout: this.timeoutMs } : undefined);
    return { key, uri: this.uriOf(key), sha256, bytes: bytes.length };
  }

  /** The bytes under `key`, or null. @throws Error when the stored content no longer matches its key's hash. */
  async get(key: string): Promise<Uint8Array | null> {
    const { sha256 } = this.check(key);
    const data = await this.os.getBlob(key);
    if (data === null) return null;
    const sha = createHash('sha256').update(data).digest('hex');
    if (sha !== sha256) throw new Error(`artifact ${this.uriOf(key)} is corrupt: its content hashes to ${sha}`);
    return data;
  }

  /** Whether `key` is stored (and not deleted). */
  async exists(key: string): Promise<boolean> {
    this.check(key);
    const info = await this.os.info(key);
    return info !== null && !info.deleted;
  }

  /** Removes `key` (no-op when absent). */
  async delete(key: string): Promise<void> {
    this.check(key);
    const info = await this.os.info(key);
    if (info !== null && !info.deleted) await this.os.delete(key);
  }

  /** `nats-obj://<bucket>/<key>`. */
  uriOf(key: string): string {
    this.check(key);
    return `nats-obj://${this.bucket}/${key}`;
  }

  /** Removes the whole bucket (tests, operators). */
  async destroy(): Promise<void> {
    await this.os.destroy();
  }

  private check(key: string): { sha256: string; extension: string } {
    const parsed = parseArtifactKey(key);
    if (!parsed) throw new RangeError(`invalid artifact key ${JSON.stringify(key)}`);
    return parsed;
  }
}
