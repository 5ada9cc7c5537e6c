import { z } from 'zod';
import { serviceConfigShape, unsetIfEmpty } from '@strata/shared-util';

// Loaded before telemetry and NestJS: this file may import only zod and @strata/shared-util.

/** Every variable this app parses; shared with docker-compose.yml and the helm chart (a test keeps them in step). */
export const ConfigSchema = z.object({
  ...serviceConfigShape,
  /**
   * Directory of the ONNX model artifacts (content-addressed); default `<STRATA_DATA_DIR>/artifacts`. Replicas and the
   * platform's training worker must see the same directory (a shared volume) until an S3-compatible store is used.
   */
  SIGNALS_ARTIFACTS_DIR: z.preprocess(unsetIfEmpty, z.string().min(1).optional()),
  /** onnxruntime intra-op threads per scoring session (0 = one per core, the onnxruntime default). */
  SIGNALS_ORT_THREADS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(64).default(0)),
  /**
   * Worker threads a batch (more than 256 rows) is scored on by the compiled tree ensemble; unset = one per core the
   * process may use, at most 4; 0 = the calling thread. Set it to the pod's CPU limit in Kubernetes (Node sees the
   * node's cores, not the cgroup quota).
   */
  SIGNALS_BATCH_THREADS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(64).optional()),
});

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;
