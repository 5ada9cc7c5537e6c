// Configuration, then OpenTelemetry, and only then the app module (NestJS, Fastify): bootService keeps that order.
import { bootService } from '@strata/platform-telemetry';
import { ConfigSchema } from './config';

bootService({
  name: 'backtests',
  config: ConfigSchema,
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  load: () => (require('./backtests') as typeof import('./backtests')).runBacktests,
});
