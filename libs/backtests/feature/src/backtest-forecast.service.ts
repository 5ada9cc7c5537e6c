import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DOCUMENT_STORE, type DocumentCollection, type DocumentStore } from '@strata/platform-contracts';
import {
  BACKTEST_SERIES_STORE,
  type BacktestSeriesStore,
  type ForecastBody,
  type ForecastDto,
  type KpiBandsDto,
} from '@strata/backtests-contracts';
import { equityReturns, simulateKpiBands } from '@strata/backtests-domain';
import { BacktestRunsRepository } from './backtest-runs.repository';
import { BacktestNotCompletedError, BacktestNotFoundError } from './backtests.service';

/** Stored bands (collection `backtest_kpi_bands`, id = the key of their inputs). */
export interface KpiBandsDoc {
  backtestId: string;
  /** The result attempt whose equity curve was simulated: a rerun changes it, and so the key. */
  seriesAttempt: string;
  body: ForecastBody;
  bands: KpiBandsDto;
  createdAt: string;
}

/** Key of a forecast's inputs: sha256 of the backtest, its result attempt and the normalised body (keys sorted). */
export function forecastKey(backtestId: string, seriesAttempt: string, body: ForecastBody): string {
  const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256')
    .update(JSON.stringify([backtestId, seriesAttempt, sorted]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Probabilistic KPIs of a completed backtest: simulates the bands of its daily equity returns
 * (`simulateKpiBands`) and stores them with the backtest, keyed by their inputs, so a second identical request (and
 * the report citing them) reads the stored bands.
 */
@Injectable()
export class BacktestForecastService {
  readonly bands: DocumentCollection<KpiBandsDoc>;

  constructor(
    private readonly runs: BacktestRunsRepository,
    @Inject(BACKTEST_SERIES_STORE) private readonly series: BacktestSeriesStore,
    @Inject(DOCUMENT_STORE) store: DocumentStore,
  ) {
    this.bands = store.collection<KpiBandsDoc>({ name: 'backtest_kpi_bands', indexes: [{ fields: ['backtestId'] }] });
  }

  /**
   * The bands of backtest `id` for `body`, from the store when the same inputs were simulated before.
   * @throws BacktestNotFoundError, BacktestNotCompletedError, KpiBandsError (flat, too short, degenerate equity).
   */
  async forecast(id: string, body: ForecastBody): Promise<ForecastDto> {
    const doc = await this.runs.get(id);
    if (!doc) throw new BacktestNotFoundError(id);
    if (doc.status !== 'completed' || !doc.seriesAttempt) throw new BacktestNotCompletedError(id, doc.status);
    const key = forecastKey(id, doc.seriesAttempt, body);
    const stored = await this.bands.get(key);
    if (stored) return { key, backtestId: id, cached: true, createdAt: stored.createdAt, bands: stored.bands };
    const equity = await this.equityOf(id, doc.seriesAttempt);
    const bands = simulateKpiBands(equityReturns(equity), {
      ...body,
      periodsPerYear: doc.result?.kpis?.periodsPerYear ?? 252,
    }) as KpiBandsDto;
    const createdAt = new Date().toISOString();
    await this.bands
      .insert({ id: key, backtestId: id, seriesAttempt: doc.seriesAttempt, body, bands, createdAt })
      .catch(async (e: unknown) => {
        // A concurrent identical request stored the same bands first: keep theirs.
        if (!(await this.bands.get(key))) throw e;
      });
    return { key, backtestId: id, cached: false, createdAt, bands };
  }

  /** The whole equity curve of a completed run, in order. */
  private async equityOf(runId: string, attempt: string): Promise<Float64Array> {
    const out: number[] = [];
    let after: number | null = null;
    for (;;) {
      const page = await this.series.readEquity({ runId, attempt, after, limit: 5000 });
      for (const p of page) out.push(p.equity);
      if (page.length < 5000) break;
      after = page[page.length - 1].seq;
    }
    return Float64Array.from(out);
  }
}
