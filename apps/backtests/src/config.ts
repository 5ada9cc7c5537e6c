import { z } from 'zod';
import { serviceConfigShape, unsetIfEmpty } from '@strata/shared-util';

// Loaded before telemetry and NestJS: this file may import only zod and @strata/shared-util.

/** Every variable this app parses; shared with docker-compose.yml and the helm chart (a test keeps them in step). */
export const ConfigSchema = z.object({
  ...serviceConfigShape,
  /**
   * A worker's claim on a running backtest is void this long after its last heartbeat, ms (default 60000; heartbeats
   * every third of it). A killed worker's run is taken over by another replica about this long after the kill.
   */
  BACKTESTS_WORKER_LEASE_MS: z.preprocess(
    unsetIfEmpty,
    z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  ),
});

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;
