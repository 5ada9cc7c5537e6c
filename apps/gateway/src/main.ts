// Order matters: configuration, then OpenTelemetry, and only then NestJS/Fastify (loaded by ./gateway), so the
// HTTP instrumentation patches node:http before anything uses it.
import { startTelemetry } from '@strata/platform-telemetry';
import { loadConfigOrExit } from '@strata/shared-util';
import { ConfigSchema } from './config';

const config = loadConfigOrExit(ConfigSchema);
const telemetry = startTelemetry({ serviceName: 'strata-gateway', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runGateway } = require('./gateway') as typeof import('./gateway');
runGateway(config, telemetry).catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
