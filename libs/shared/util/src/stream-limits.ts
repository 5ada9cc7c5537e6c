import { ConfigError } from './config';

/** Retention limits of one JetStream stream (limits retention). */
export interface StreamLimits {
  /** Oldest message kept, ms; 0 = no age limit. */
  maxAgeMs: number;
  /** Largest stream size, bytes; -1 = no size limit. */
  maxBytes: number;
  /** At `maxBytes`: `old` drops the oldest messages, `new` refuses new publishes (the producer gets an error). */
  discard: 'old' | 'new';
}

/**
 * Per-stream overrides, keyed by stream name without the deployment's prefix: a domain stream (`MARKETDATA`), one
 * dead-letter stream (`DLQ_MARKETDATA`), or `DLQ` for every dead-letter stream.
 */
export type StreamLimitsConfig = Readonly<Record<string, Partial<StreamLimits>>>;

const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;

/**
 * Built-in limits. Domain streams keep a year of messages (bar events, commands, model and backtest events) with no
 * size bound; the data-quality stream (one event per anomaly, it grew by megabytes per test session) and every
 * dead-letter stream are bounded by age and size, dropping the oldest first.
 */
export const DEFAULT_STREAM_LIMITS: {
  readonly domain: StreamLimits;
  readonly deadLetters: StreamLimits;
  readonly streams: Readonly<Record<string, StreamLimits>>;
} = {
  domain: { maxAgeMs: 365 * DAY_MS, maxBytes: -1, discard: 'old' },
  deadLetters: { maxAgeMs: 30 * DAY_MS, maxBytes: 64 * MIB, discard: 'old' },
  streams: { DATAQUALITY: { maxAgeMs: 30 * DAY_MS, maxBytes: 256 * MIB, discard: 'old' } },
};

/** Key of the dead-letter stream of a domain stream key: `MARKETDATA` → `DLQ_MARKETDATA`. */
export const DEAD_LETTER_STREAM_PREFIX = 'DLQ_';

/** Stream key of a domain (first subject token): `marketdata` → `MARKETDATA`, `data-quality` → `DATA_QUALITY`. */
export function streamKey(domain: string): string {
  return domain.toUpperCase().replace(/-/g, '_');
}

/**
 * The limits of stream `key` (without prefix): the built-in default for its kind, then the `DLQ` override for
 * dead-letter streams, then the stream's own override.
 */
export function resolveStreamLimits(key: string, config: StreamLimitsConfig = {}): StreamLimits {
  const dlq = key.startsWith(DEAD_LETTER_STREAM_PREFIX);
  const base = dlq
    ? DEFAULT_STREAM_LIMITS.deadLetters
    : (DEFAULT_STREAM_LIMITS.streams[key] ?? DEFAULT_STREAM_LIMITS.domain);
  return { ...base, ...(dlq ? config.DLQ : undefined), ...config[key] };
}

const VARIABLE = /^STRATA_STREAM_([A-Z0-9_]+?)_(MAX_AGE|MAX_BYTES|DISCARD)$/;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };
const SIZE = /^(\d+)(B|KiB|MiB|GiB|TiB)?$/;
const SIZE_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: MIB, GiB: 1024 * MIB, TiB: 1024 * 1024 * MIB };

/** `0` (no limit) or `<n><ms|s|m|h|d>`, e.g. `365d`, `12h`. */
function parseDuration(v: string): number | string {
  if (v === '0') return 0;
  const m = DURATION.exec(v);
  if (!m) return 'expected 0 (no limit) or a duration like 365d, 12h, 30m, 90s, 500ms';
  const ms = Number(m[1]) * DURATION_MS[m[2]];
  return Number.isSafeInteger(ms) && ms > 0 ? ms : 'expected a positive duration';
}

/** `-1` / `unlimited` (no limit) or `<n>[B|KiB|MiB|GiB|TiB]`, e.g. `256MiB`. */
function parseSize(v: string): number | string {
  if (v === '-1' || v === 'unlimited') return -1;
  const m = SIZE.exec(v);
  if (!m) return 'expected -1 / unlimited (no limit) or a size like 256MiB, 10GiB, 1048576';
  const bytes = Number(m[1]) * SIZE_BYTES[m[2] ?? 'B'];
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 'expected a positive size';
}

/**
 * Reads the stream limits from the environment: `STRATA_STREAM_<KEY>_MAX_AGE` (`365d`, `0` = none),
 * `STRATA_STREAM_<KEY>_MAX_BYTES` (`256MiB`, `-1` = none) and `STRATA_STREAM_<KEY>_DISCARD` (`old` | `new`), where
 * `<KEY>` is a domain stream (`MARKETDATA`), a dead-letter stream (`DLQ_MARKETDATA`) or `DLQ` (all dead-letter
 * streams). Empty values count as unset. Throws {@link ConfigError} naming every bad variable, including a `<KEY>`
 * that is not one of `domains`' streams when they are given (a misspelt name would otherwise be ignored).
 */
export function streamLimitsFromEnv(env: NodeJS.ProcessEnv, domains?: readonly string[]): StreamLimitsConfig {
  const keys = new Set<string>(['DLQ']);
  for (const d of domains ?? []) {
    keys.add(streamKey(d));
    keys.add(`${DEAD_LETTER_STREAM_PREFIX}${streamKey(d)}`);
  }
  const out: Record<string, Partial<StreamLimits>> = {};
  const issues: { variable: string; message: string }[] = [];
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith('STRATA_STREAM_')) continue;
    const raw = env[variable]?.trim();
    if (!raw) continue;
    const m = VARIABLE.exec(variable);
    if (!m) {
      issues.push({ variable, message: 'expected STRATA_STREAM_<STREAM>_MAX_AGE, _MAX_BYTES or _DISCARD' });
      continue;
    }
    const [, key, what] = m;
    if (domains && !keys.has(key)) {
      issues.push({ variable, message: `no stream ${key} (streams: ${[...keys].sort().join(', ')})` });
      continue;
    }
    const limits = (out[key] ??= {});
    if (what === 'DISCARD') {
      if (raw === 'old' || raw === 'new') limits.discard = raw;
      else issues.push({ variable, message: 'expected old or new' });
      continue;
    }
    const v = what === 'MAX_AGE' ? parseDuration(raw) : parseSize(raw);
    if (typeof v === 'string') issues.push({ variable, message: v });
    else if (what === 'MAX_AGE') limits.maxAgeMs = v;
    else limits.maxBytes = v;
  }
  if (issues.length) throw new ConfigError(issues);
  return out;
}
