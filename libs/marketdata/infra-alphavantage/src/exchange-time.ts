/**
 * Exchange wall-clock time → UTC, via the platform's IANA time zone data (`Intl`, full ICU in Node 20), so daylight
 * saving follows the real rules (e.g. US/Eastern: UTC−5 in winter, UTC−4 from the second Sunday of March to the first
 * Sunday of November since 2007).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone name (or alias such as `US/Eastern`) known to this runtime. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `timeZone` from UTC at the instant `utcMs` (whole seconds), in ms; negative west of Greenwich. */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(utcMs)))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(utcMs / 1000) * 1000;
}

/**
 * UTC epoch ms of a wall-clock time in `timeZone`, given as the epoch ms the same wall time would have in UTC.
 * Returns NaN for a wall time that does not exist (skipped by a spring-forward change). For a wall time that occurs
 * twice (the repeated hour of a fall-back change) returns the earlier instant.
 */
export function wallTimeToUtcMs(timeZone: string, wallAsUtcMs: number): number {
  const candidates = new Set([
    zoneOffsetMs(timeZone, wallAsUtcMs - 43_200_000),
    zoneOffsetMs(timeZone, wallAsUtcMs + 43_200_000),
  ]);
  let best = NaN;
  for (const off of candidates) {
    const utc = wallAsUtcMs - off;
    if (zoneOffsetMs(timeZone, utc) === off && !(utc >= best)) best = utc;
  }
  return best;
}
