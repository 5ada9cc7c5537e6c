import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  EVENT_BUS,
  type DocumentCollection,
  type DocumentStore,
  type EventBus,
  type PayloadOf,
  type StoredDocument,
  VersionConflictError,
} from '@strata/platform-contracts';
import {
  BACKTEST_SERIES_STORE,
  ForecastFinishedV1,
  ForecastKpiBandsCommandV1,
  ForecastProgressedV1,
  type ForecastJobDto,
  type BacktestSeriesStore,
  type ForecastBody,
  type ForecastDto,
  type KpiBandsDto,
} from '@strata/backtests-contracts';
import { equityReturns, KpiBandsError, simulateKpiBands } from '@strata/backtests-domain';
import { uuidv7 } from '@strata/shared-util';
import { BacktestRunsRepository } from './backtest-runs.repository';
import { readEquityCurve } from './equity-curve';
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

/** A forecast job (collection `backtest_forecast_jobs`, id = job id). */
export type ForecastJobDoc = Omit<ForecastJobDto, 'id'>;

/** No such forecast job of this backtest (HTTP 404). */
export class ForecastJobNotFoundError extends Error {
  constructor(id: string) {
    super(`no forecast job ${id}`);
    this.name = 'ForecastJobNotFoundError';
  }
}

/**
 * Requests above this many simulated path-bars (paths × horizon) run as a job on the bus (`backtest.cmd.forecast.v1`,
 * 202 + the job); smaller ones are answered at once. 10,000 × 21 is synchronous, 10,000 × 63 a job.
 */
export const FORECAST_SYNC_LIMIT = 500_000;

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
  readonly jobs: DocumentCollection<ForecastJobDoc>;

  constructor(
    private readonly runs: BacktestRunsRepository,
    @Inject(BACKTEST_SERIES_STORE) private readonly series: BacktestSeriesStore,
    @Inject(DOCUMENT_STORE) store: DocumentStore,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    this.bands = store.collection<KpiBandsDoc>({ name: 'backtest_kpi_bands', indexes: [{ fields: ['backtestId'] }] });
    this.jobs = store.collection<ForecastJobDoc>({
      name: 'backtest_forecast_jobs',
      indexes: [{ fields: ['backtestId'] }],
    });
  }

  /**
   * The bands when stored or small enough to simulate now (`bands`), else a queued job on the bus (`job`, 202).
   * @throws as {@link forecast}.
   */
  async request(id: string, body: ForecastBody): Promise<{ bands: ForecastDto } | { job: ForecastJobDto }> {
    if (body.paths * body.horizon <= FORECAST_SYNC_LIMIT) return { bands: await this.forecast(id, body) };
    const doc = await this.completedRun(id);
    const key = forecastKey(id, doc.seriesAttempt!, body);
    const stored = await this.bands.get(key);
    if (stored)
      return { bands: { key, backtestId: id, cached: true, createdAt: stored.createdAt, bands: stored.bands } };
    const jobId = uuidv7();
    const createdAt = new Date().toISOString();
    const job = await this.jobs.insert({
      id: jobId,
      backtestId: id,
      status: 'queued',
      progress: 0,
      key,
      body,
      createdAt,
      finishedAt: null,
      error: null,
      result: null,
    });
    await this.bus.publish(
      ForecastKpiBandsCommandV1,
      { jobId, backtestId: id, body, requestedAt: createdAt },
      { id: jobId },
    );
    return { job: jobDto(job) };
  }

  /** Forecast job `jobId` of backtest `id`. @throws ForecastJobNotFoundError */
  async job(id: string, jobId: string): Promise<ForecastJobDto> {
    const job = await this.jobs.get(jobId);
    if (!job || job.backtestId !== id) throw new ForecastJobNotFoundError(jobId);
    return jobDto(job);
  }

  /**
   * Runs a forecast job (the `backtest.cmd.forecast.v1` handler): progress on the job and as
   * `backtest.evt.forecast.progressed.v1`, the bands stored like a synchronous answer, then
   * `backtest.evt.forecast.finished.v1`. Idempotent: a finished job is left alone. Unusable returns fail the job for
   * good (reason named); other errors propagate (redelivery).
   */
  async runJob(cmd: PayloadOf<typeof ForecastKpiBandsCommandV1>): Promise<void> {
    let job = await this.jobs.get(cmd.jobId);
    if (!job || job.status === 'completed' || job.status === 'failed') return;
    job = await this.jobs.update(job.id, job._version, { set: { status: 'running' } });
    let version = job._version;
    let lastWrite = 0;
    const finish = async (change: Partial<ForecastJobDoc>) => {
      // A progress write may still be in flight: re-read and retry on a version conflict.
      for (let attempt = 0; ; attempt++) {
        const now = (await this.jobs.get(cmd.jobId))!;
        try {
          await this.jobs.update(cmd.jobId, now._version, { set: { ...change, finishedAt: new Date().toISOString() } });
          break;
        } catch (e) {
          if (!(e instanceof VersionConflictError) || attempt >= 5) throw e;
        }
      }
      await this.bus.publish(ForecastFinishedV1, {
        jobId: cmd.jobId,
        backtestId: cmd.backtestId,
        status: change.status as 'completed' | 'failed',
        key: job!.key,
        error: change.error ?? null,
      });
    };
    try {
      const result = await this.forecast(cmd.backtestId, cmd.body, (done, total) => {
        // At most one progress write a second; the simulation itself is synchronous, so these are fire-and-forget.
        if (Date.now() - lastWrite < 1000 && done < total) return;
        lastWrite = Date.now();
        const fraction = done / total;
        void this.jobs
          .update(cmd.jobId, version, { set: { progress: fraction } })
          .then((d) => (version = d._version))
          .catch(() => undefined);
        void this.bus
          .publish(ForecastProgressedV1, { jobId: cmd.jobId, backtestId: cmd.backtestId, fraction })
          .catch(() => undefined);
      });
      await finish({ status: 'completed', progress: 1, result });
    } catch (e) {
      if (e instanceof KpiBandsError)
        await finish({ status: 'failed', error: { reason: e.reason, detail: e.message } });
      else if (e instanceof BacktestNotFoundError || e instanceof BacktestNotCompletedError)
        await finish({ status: 'failed', error: { reason: 'backtest_unavailable', detail: e.message } });
      else throw e;
    }
  }

  private async completedRun(id: string) {
    const doc = await this.runs.get(id);
    if (!doc) throw new BacktestNotFoundError(id);
    if (doc.status !== 'completed' || !doc.seriesAttempt) throw new BacktestNotCompletedError(id, doc.status);
    return doc;
  }

  /**
   * The bands of backtest `id` for `body`, from the store when the same inputs were simulated before.
   * @throws BacktestNotFoundError, BacktestNotCompletedError, KpiBandsError (flat, too short, degenerate equity).
   */
  async forecast(
    id: string,
    body: ForecastBody,
    onProgress?: (done: number, total: number) => void,
  ): Promise<ForecastDto> {
    const doc = await this.completedRun(id);
    const key = forecastKey(id, doc.seriesAttempt!, body);
    const stored = await this.bands.get(key);
    if (stored) return { key, backtestId: id, cached: true, createdAt: stored.createdAt, bands: stored.bands };
    const { equity } = await readEquityCurve(this.series, id, doc.seriesAttempt!);
    const bands = simulateKpiBands(equityReturns(equity), {
      ...body,
      periodsPerYear: doc.result?.kpis?.periodsPerYear ?? 252,
      onProgress,
    }) as KpiBandsDto;
    const createdAt = new Date().toISOString();
    await this.bands
      .insert({ id: key, backtestId: id, seriesAttempt: doc.seriesAttempt!, body, bands, createdAt })
      .catch(async (e: unknown) => {
        // A concurrent identical request stored the same bands first: keep theirs.
        if (!(await this.bands.get(key))) throw e;
      });
    return { key, backtestId: id, cached: false, createdAt, bands };
  }
}

function jobDto(d: StoredDocument<ForecastJobDoc>): ForecastJobDto {
  return {
    id: d.id,
    backtestId: d.backtestId,
    status: d.status,
    progress: d.progress,
    key: d.key,
    body: d.body,
    createdAt: d.createdAt,
    finishedAt: d.finishedAt,
    error: d.error,
    result: d.result,
  };
}
