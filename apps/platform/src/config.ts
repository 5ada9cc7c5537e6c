import { z } from 'zod';
import {
  alphaVantageConfigShape,
  regimeConfigShape,
  serviceConfigShape,
  webhookDeliveryConfigShape,
} from '@strata/shared-util';

// Loaded before telemetry and NestJS: this file may import only zod and @strata/shared-util.

/** Every variable this app parses; shared with docker-compose.yml and the helm chart (a test keeps them in step). */
export const ConfigSchema = z.object({
  ...serviceConfigShape,
  ...webhookDeliveryConfigShape,
  ...alphaVantageConfigShape,
  ...regimeConfigShape,
});

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;
