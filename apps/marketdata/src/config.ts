import { z } from 'zod';
import { alphaVantageConfigShape, serviceConfigShape, unsetIfEmpty } from '@strata/shared-util';

// Loaded before telemetry and NestJS: this file may import only zod and @strata/shared-util.

/** Every variable this app parses; shared with docker-compose.yml and the helm chart (a test keeps them in step). */
export const ConfigSchema = z.object({
  ...serviceConfigShape,
  ...alphaVantageConfigShape,
  /**
   * Directory of CSV / Parquet files (e.g. `data/sample`) loaded once at boot when the bars table is empty; unset: none
   * (a production deployment starts empty and ingests through the API).
   */
  STRATA_SAMPLE_DIR: z.preprocess(unsetIfEmpty, z.string().min(1).optional()),
});

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;
