// Order matters: configuration, then OpenTelemetry, and only then NestJS (loaded by ./ingestion).
import { startTelemetry } from '@strata/platform-telemetry';
import { loadConfigOrExit } from '@strata/shared-util';
import { ConfigSchema } from './config';

const config = loadConfigOrExit(ConfigSchema);
const telemetry = startTelemetry({ serviceName: 'strata-ingestion', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runIngestion } = require('./ingestion') as typeof import('./ingestion');
runIngestion(config, telemetry).catch((err: unknown) => {
  process.stderr.write(`ingestion failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
