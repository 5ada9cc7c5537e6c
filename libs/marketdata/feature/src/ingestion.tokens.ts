import type { ArtifactStore } from '@strata/platform-contracts';

/** Options of the ingestion service side ({@link IngestionModule}). */
export interface IngestionOptions {
  /**
   * Where `source.kind = "staged"` uploads are read from: the staging artifact store the HTTP side puts them in
   * (`strata-staging` bucket on JetStream, `<STRATA_DATA_DIR>/staging` embedded). Without it staged sources are refused
   * as not configured.
   */
  staging?: ArtifactStore;
  /**
   * Directories an ingest command with `source.kind = "file"` may read from (absolute or relative to the working
   * directory). A path outside all of them is refused. Typically `<STRATA_DATA_DIR>/uploads` and `data/sample`.
   */
  allowedFileRoots: string[];
}

/** Injection token of {@link IngestionOptions}. */
export const INGESTION_OPTIONS = Symbol('INGESTION_OPTIONS');

/** Options of the gateway side ({@link IngestionHttpModule}). */
export interface IngestionHttpOptions {
  /**
   * Largest CSV sent inline inside the ingest command, bytes (`STRATA_INLINE_MAX_BYTES`, default 256 KiB). Larger
   * uploads, and every Parquet upload, are put in `staging` and the command names their key (NATS messages are
   * limited to 1 MiB by default).
   */
  inlineMaxBytes?: number;
  /** Staging artifact store shared with the ingestion worker (Object Store bucket, or a local directory in one process). */
  staging: ArtifactStore;
  /** How long the gateway waits for the ingestion service's reply, ms (default 120000). */
  requestTimeoutMs?: number;
}

/** Injection token of {@link IngestionHttpOptions}. */
export const INGESTION_HTTP_OPTIONS = Symbol('INGESTION_HTTP_OPTIONS');
