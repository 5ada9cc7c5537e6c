import { z } from 'zod';
import { unsetIfEmpty } from './service-config';

const num = (def: number, min: number, max: number, int = true) =>
  z.preprocess(unsetIfEmpty, (int ? z.coerce.number().int() : z.coerce.number()).min(min).max(max).default(def));

/**
 * Settings of the regime service, parsed by every app that runs it (the standalone `regime` and the all-in-one
 * `platform`).
 */
export const regimeConfigShape = {
  /** Refit a series after this many newly filtered bars (default 21: monthly on daily bars). */
  REGIME_REFIT_EVERY_BARS: num(21, 1, 100_000),
  /** Most bars a late or corrected bar re-filters from its checkpoint; beyond it the series is refitted (default 500). */
  REGIME_RECOMPUTE_MAX_BARS: num(500, 1, 1_000_000),
  /** Superseded model versions expire this many days after being superseded (default 30; records never expire). */
  REGIME_SUPERSEDED_TTL_DAYS: num(30, 0, 3650, false),
  /** Realised-volatility window of the observations, bars (10 to 20; default 12, the domain's measured default). */
  REGIME_VOL_WINDOW: num(12, 10, 20),
  /** A fit uses the last this many bars of the series (default 5040: 20 years of daily bars). */
  REGIME_FIT_MAX_BARS: num(5040, 100, 10_000_000),
};
