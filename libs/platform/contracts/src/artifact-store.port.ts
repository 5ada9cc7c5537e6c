/** A stored artifact: content-addressed key, its location, SHA-256 (hex) and size in bytes. */
export interface StoredArtifact {
  /** Content-addressed key (`sha256/<2 hex>/<sha256><ext>`): the same bytes always get the same key. */
  key: string;
  /** Location for lineage and humans (`file:///…` for a directory, `nats-obj://<bucket>/<key>` for the Object Store). */
  uri: string;
  /** SHA-256 of the bytes, lowercase hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
}

/**
 * Port: content-addressed, immutable bytes (ONNX models, backtest series, market-data snapshots, staged uploads).
 * - `put` of the same bytes returns the same key and writes once (idempotent);
 * - `get` returns exactly the bytes stored (adapters verify the hash and throw on a mismatch) or null when absent;
 * - a key that is not of the form `sha256/<2 hex>/<sha256><ext>` is refused (RangeError), never looked up;
 * - `delete` removes a key (idempotent; used to clean staging early, stores with a TTL also expire on their own).
 * Adapters in `@strata/platform-artifacts`: `LocalDirectoryArtifactStore` (a directory, the embedded default) and
 * `ObjectStoreArtifactStore` (JetStream Object Store); one conformance suite (`@strata/platform-artifacts/testing`).
 */
export interface ArtifactStore {
  /** Stores `bytes` under their SHA-256 (`extension`, e.g. `.onnx`, is appended to the key). */
  put(bytes: Uint8Array, opts?: { extension?: string }): Promise<StoredArtifact>;
  /** The bytes under `key`, or null. @throws Error when the stored content no longer matches its hash. */
  get(key: string): Promise<Uint8Array | null>;
  /** Whether `key` is stored. */
  exists(key: string): Promise<boolean>;
  /** Removes `key`; no-op when absent. */
  delete(key: string): Promise<void>;
  /** The URI `put` reports for `key` (whether stored or not). */
  uriOf(key: string): string;
}

/** Injection token of {@link ArtifactStore}. */
export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');

/** Key of bytes with this SHA-256 (lowercase hex) and extension (e.g. `.onnx`): `sha256/<2 hex>/<sha256><ext>`. */
export function artifactKey(sha256: string, extension = ''): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256}${extension}`;
}

const ARTIFACT_KEY_PATTERN = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})(\.[a-z0-9]{1,16})?$/;

/**
 * Parses a content-addressed key; null when it is not one (wrong shape, prefix not the hash's first two hex digits).
 * Adapters use it so no key can escape their root or name something other than a hash.
 */
export function parseArtifactKey(key: string): { sha256: string; extension: string } | null {
  const m = ARTIFACT_KEY_PATTERN.exec(key);
  if (!m || !m[2].startsWith(m[1])) return null;
  return { sha256: m[2], extension: m[3] ?? '' };
}
