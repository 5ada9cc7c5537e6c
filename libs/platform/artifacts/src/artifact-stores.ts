import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamEventBus } from '@strata/platform-bus';
import type { ArtifactStore, EventBus } from '@strata/platform-contracts';
import { LocalDirectoryArtifactStore } from './local-directory-artifact.store';
import { ObjectStoreArtifactStore } from './object-store-artifact.store';

/** Default age of staged bodies in the `strata-staging` bucket, ms (1 h). */
export const DEFAULT_STAGING_TTL_MS = 60 * 60 * 1000;

/** The three artifact stores of the system (see docs/split-topology.md, "Shared storage"). */
export interface ArtifactStores {
  /** Models, backtest series; kept (`strata-artifacts` / `<dataDir>/artifacts`). */
  artifacts: ArtifactStore;
  /** Market-data snapshots, content-addressed; kept (`strata-snapshots` / `<dataDir>/snapshots`). */
  snapshots: ArtifactStore;
  /** Large request / reply bodies; expire (`strata-staging`, TTL / `<dataDir>/staging`). */
  staging: ArtifactStore;
}

/** Options of {@link openArtifactStores}. */
export interface OpenArtifactStoresOptions {
  /** The app's bus: a `JetStreamEventBus` selects Object Store buckets on its connection; anything else, directories. */
  bus?: EventBus;
  /** A NATS connection to use instead of the bus's (Object Store buckets). */
  nc?: NatsConnection;
  /** The data directory (`STRATA_DATA_DIR`) holding `artifacts/`, `snapshots/`, `staging/` when local. */
  dataDir: string;
  /** Bucket name prefix (default `strata`: `strata-artifacts`, `strata-snapshots`, `strata-staging`). */
  bucketPrefix?: string;
  /** Age of staged objects in the staging bucket, ms (default {@link DEFAULT_STAGING_TTL_MS}). */
  stagingTtlMs?: number;
  /** Local directory of `artifacts` instead of `<dataDir>/artifacts` (e.g. `SIGNALS_ARTIFACTS_DIR`). */
  artifactsDir?: string;
}

/**
 * Opens the system's artifact stores: JetStream Object Store buckets when the app runs on JetStream (`bus` is a
 * `JetStreamEventBus`, or `nc` is given), so every process and replica shares them; local directories under the
 * data directory otherwise (the all-in-one, the embedded default). Buckets are created when missing.
 */
export async function openArtifactStores(opts: OpenArtifactStoresOptions): Promise<ArtifactStores> {
  const nc = opts.nc ?? (opts.bus instanceof JetStreamEventBus ? opts.bus.connection() : undefined);
  if (!nc) {
    return {
      artifacts: new LocalDirectoryArtifactStore(opts.artifactsDir ?? join(opts.dataDir, 'artifacts')),
      snapshots: new LocalDirectoryArtifactStore(join(opts.dataDir, 'snapshots')),
      staging: new LocalDirectoryArtifactStore(join(opts.dataDir, 'staging')),
    };
  }
  const prefix = opts.bucketPrefix ?? 'strata';
  const [artifacts, snapshots, staging] = await Promise.all([
    ObjectStoreArtifactStore.open(nc, { bucket: `${prefix}-artifacts` }),
    ObjectStoreArtifactStore.open(nc, { bucket: `${prefix}-snapshots` }),
    ObjectStoreArtifactStore.open(nc, {
      bucket: `${prefix}-staging`,
      ttlMs: opts.stagingTtlMs ?? DEFAULT_STAGING_TTL_MS,
    }),
  ]);
  return { artifacts, snapshots, staging };
}
