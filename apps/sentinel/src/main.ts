// Configuration, then OpenTelemetry, and only then the app module (NestJS, Fastify): bootService keeps that order.
import { bootService } from '@strata/platform-telemetry';
import { ConfigSchema } from './config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
bootService({ name: 'sentinel', config: ConfigSchema, load: () => (require('./sentinel') as typeof import('./sentinel')).runSentinel });
