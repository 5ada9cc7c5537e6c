import { ConfigError, loadConfigOrExit } from '@strata/shared-util';
import type { z } from 'zod';

/** A configuration schema whose output may name the OTLP endpoint (every app's does, through `serviceConfigShape`). */
type ConfigSchema = z.ZodType<{ OTEL_EXPORTER_OTLP_ENDPOINT?: string }>;
import { startTelemetry, type TelemetryHandle } from './telemetry';

/** What {@link bootService} starts. */
export interface BootOptions<S extends ConfigSchema> {
  /** Service name: `service.name` is `strata-<name>`, and start-up failures name it. */
  name: string;
  /** The app's configuration schema (its `config.ts`, which imports only zod and shared-util). */
  config: S;
  /** Loads the app module and returns its run function; called after telemetry started, so Nest loads only then. */
  load: () => (config: z.output<S>, telemetry: TelemetryHandle) => Promise<void>;
}

/**
 * The whole of an app's `main.ts`: parses the configuration (exit 78 naming the bad variable), starts OpenTelemetry,
 * and only then loads the app module, so the HTTP instrumentation patches `node:http` before NestJS or Fastify load.
 * A failed start is printed with its stack and exits 1; a configuration error found while starting (e.g. a bad
 * `STRATA_STREAM_*` variable) is printed naming the variable and exits 78, like the schema's.
 */
export function bootService<S extends ConfigSchema>(opts: BootOptions<S>): void {
  const config = loadConfigOrExit(opts.config);
  const telemetry = startTelemetry({
    serviceName: `strata-${opts.name}`,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  opts
    .load()(config, telemetry)
    .catch((err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${opts.name}: ${err.message}\n`);
        process.exit(78);
      }
      process.stderr.write(
        `${opts.name} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    });
}
