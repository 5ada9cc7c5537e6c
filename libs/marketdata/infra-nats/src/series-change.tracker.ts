import type { BarQualityFlagsStore } from '@strata/dataquality-contracts';
import type { FeatureStore } from '@strata/features-contracts';
import type { BarsRepository, CorporateActionsRepository, Timeframe } from '@strata/marketdata-contracts';

/** A change the tracker saw: one series, every series of a symbol (`timeframe` absent), or everything (`symbol` absent). */
export interface SeriesChange {
  symbol?: string;
  timeframe?: Timeframe;
}

/**
 * Versions of the series the marketdata service serves, bumped synchronously by every write to the stores behind the
 * reads (bars commits, corporate actions, feature tails, quality flags), before and after the write. The read
 * responder caches window → snapshot under the version it read at, so a window is never served from before a write
 * that completed before the request (no race with the change events, which travel later). Wrap the stores the
 * marketdata process writes with the `track*` methods and hand the wrapped ones to its modules.
 */
export class SeriesChangeTracker {
  private epoch = 0;
  private readonly bySymbol = new Map<string, number>();
  private readonly bySeries = new Map<string, number>();
  private readonly listeners = new Set<(c: SeriesChange) => void>();

  /** Current version of one series (changes whenever its bars, actions, features or flags may have changed). */
  version(symbol: string, timeframe: string): string {
    return `${this.epoch}.${this.bySymbol.get(symbol) ?? 0}.${this.bySeries.get(`${symbol}\u0000${timeframe}`) ?? 0}`;
  }

  /** Records a change and tells the listeners (after a completed write). */
  bump(change: SeriesChange, notify = true): void {
    if (change.symbol === undefined) this.epoch++;
    else if (change.timeframe === undefined)
      this.bySymbol.set(change.symbol, (this.bySymbol.get(change.symbol) ?? 0) + 1);
    else {
      const k = `${change.symbol}\u0000${change.timeframe}`;
      this.bySeries.set(k, (this.bySeries.get(k) ?? 0) + 1);
    }
    if (notify) for (const l of this.listeners) l(change);
  }

  /** Calls `listener` after every completed write; returns the unsubscribe function. */
  onChange(listener: (c: SeriesChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The bars repository, with `commit` bumping its series. */
  trackBars(repo: BarsRepository): BarsRepository {
    return this.wrap(repo, { commit: ([req]) => ({ symbol: req.symbol, timeframe: req.timeframe }) });
  }

  /** The corporate-actions repository, with `upsert` bumping every series of each symbol. */
  trackCorporateActions(repo: CorporateActionsRepository): CorporateActionsRepository {
    return this.wrap(repo, {
      upsert: ([actions]) => {
        const symbols = [...new Set((actions as { symbol: string }[]).map((a) => a.symbol))];
        return symbols.length === 1 ? { symbol: symbols[0] } : {};
      },
    });
  }

  /** The feature store, with `writeTail` bumping its series. */
  trackFeatureStore(store: FeatureStore): FeatureStore {
    return this.wrap(store, { writeTail: ([req]) => ({ symbol: req.symbol, timeframe: req.timeframe }) });
  }

  /** The flags store, with `upsert` bumping the flagged series and `setStatus` (series unknown) everything. */
  trackQualityFlags(store: BarQualityFlagsStore): BarQualityFlagsStore {
    return this.wrap(store, {
      upsert: ([flags]) => {
        const keys = new Set(
          (flags as { symbol: string; timeframe: Timeframe }[]).map((f) => `${f.symbol} ${f.timeframe}`),
        );
        if (keys.size !== 1) return {};
        const f = (flags as { symbol: string; timeframe: Timeframe }[])[0];
        return { symbol: f.symbol, timeframe: f.timeframe };
      },
      setStatus: () => ({}),
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private wrap<T extends object>(target: T, writes: Record<string, (args: any[]) => SeriesChange>): T {
    return new Proxy(target, {
      get: (t, prop, _receiver) => {
        const value = Reflect.get(t, prop, t) as unknown;
        if (typeof value !== 'function') return value;
        const changeOf = typeof prop === 'string' ? writes[prop] : undefined;
        if (!changeOf) return (value as (...a: unknown[]) => unknown).bind(t);
        return async (...args: unknown[]) => {
          const change = changeOf(args);
          this.bump(change, false);
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          } finally {
            this.bump(change);
          }
        };
      },
    });
  }
}
