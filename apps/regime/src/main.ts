// Configuration, then OpenTelemetry, and only then the app module (NestJS, Fastify): bootService keeps that order.
import { bootService } from '@strata/platform-telemetry';
import { ConfigSchema } from './config';

bootService({
  name: 'regime',
  config: ConfigSchema,
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  load: () => (require('./regime') as typeof import('./regime')).runRegime,
});
