/** Options of the ingestion service side ({@link IngestionModule}). */
export interface IngestionOptions {
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
   * Largest CSV sent inline inside the ingest command, bytes. Larger uploads are written to `uploadDir` and sent
   * as a file reference (NATS messages are limited to 1 MiB by default). Default 512 KiB.
   */
  inlineMaxBytes?: number;
  /** Where larger uploads are staged for the ingestion service (a volume both can read). */
  uploadDir: string;
  /** How long the gateway waits for the ingestion service's reply, ms (default 120000). */
  requestTimeoutMs?: number;
}

/** Injection token of {@link IngestionHttpOptions}. */
export const INGESTION_HTTP_OPTIONS = Symbol('INGESTION_HTTP_OPTIONS');
