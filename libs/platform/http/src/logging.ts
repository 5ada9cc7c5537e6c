import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';

/** Log levels accepted in `LOG_LEVEL` (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Structured JSON logger (pino) for a service: one JSON object per line on stdout with `time` (ISO-8601 UTC),
 * `level` (label), `service` and `msg`; request logs carry `reqId`. Secrets in `authorization` / `x-api-key`
 * headers are redacted.
 */
export function createLogger(opts: { service: string; level?: LogLevel }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' },
    },
    destination,
  );
}

const NEST_TO_PINO: Record<NestLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/** Nest `LoggerService` writing through pino, so framework and application logs share the JSON format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(level: NestLogLevel, message: unknown, optional: unknown[]): void {
    const rest = [...optional];
    let context: string | undefined;
    if (rest.length && typeof rest[rest.length - 1] === 'string') context = rest.pop() as string;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n')) fields.stack = rest.shift();
    if (message instanceof Error) {
      fields.err = message;
      this.logger[NEST_TO_PINO[level]](fields, message.message);
    } else if (message && typeof message === 'object') {
      this.logger[NEST_TO_PINO[level]]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[NEST_TO_PINO[level]](fields, String(message));
    }
  }

  log(message: unknown, ...optional: unknown[]): void {
    this.write('log', message, optional);
  }
  error(message: unknown, ...optional: unknown[]): void {
    this.write('error', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]): void {
    this.write('warn', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]): void {
    this.write('debug', message, optional);
  }
  verbose(message: unknown, ...optional: unknown[]): void {
    this.write('verbose', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]): void {
    this.write('fatal', message, optional);
  }
}
