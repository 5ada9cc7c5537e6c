// Order matters: configuration, then OpenTelemetry, and only then NestJS (loaded by ./signals).
import { startTelemetry } from '@strata/platform-telemetry';
import { loadConfigOrExit } from '@strata/shared-util';
import { ConfigSchema } from './config';

const config = loadConfigOrExit(ConfigSchema);
const telemetry = startTelemetry({ serviceName: 'strata-signals', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runSignals } = require('./signals') as typeof import('./signals');
runSignals(config, telemetry).catch((err: unknown) => {
  process.stderr.write(`signals failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
