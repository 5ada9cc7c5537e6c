import { z } from 'zod';

// Loaded before telemetry and NestJS: this file may import only zod and @strata/util.

/** Empty strings (compose `${VAR:-}`, chart placeholders) count as unset. */
const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const ROLE_KEY = /^(viewer|operator|admin):\S{8,}$/;

/** Every variable this app parses; names are fixed by issue 2 and shared with docker-compose.yml and the helm chart. */
export const ConfigSchema = z.object({
  /** HTTP port (default 3000). */
  PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(65535).default(3000)),
  /** Local state: bus journal, bootstrap admin key, staged uploads (default ./data). */
  STRATA_DATA_DIR: z.preprocess(unsetIfEmpty, z.string().default('./data')),
  /** Comma-separated role:key list (roles viewer, operator, admin; keys of 8+ characters). */
  STRATA_API_KEYS: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (!v) return;
        const items = v.split(',').map((s) => s.trim()).filter(Boolean);
        items.forEach((item, i) => {
          if (!ROLE_KEY.test(item)) ctx.addIssue({ code: 'custom', message: `item ${i + 1}: expected role:key with role viewer, operator or admin and a key of at least 8 characters` });
        });
      }),
  ),
  /** NATS server(s), e.g. nats://127.0.0.1:4222; unset: the in-process bus. */
  NATS_URL: z.preprocess(unsetIfEmpty, z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'expected a nats:// URL').optional()),
  /** MongoDB URI for the document store (persistence issue); unset: embedded store. */
  MONGODB_URI: z.preprocess(unsetIfEmpty, z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/, 'expected a mongodb:// URI').optional()),
  /** OTLP/HTTP endpoint for traces, e.g. http://localhost:4318; unset: tracing off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(unsetIfEmpty, z.url().optional()),
  /** pino level (default info). */
  LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
});

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;
