import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  BarsCorrectedV1,
  BarsIngestedV1,
  type BarRows,
  type IngestCommandV1,
  type IngestErrorKind,
  type IngestResult,
  BARS_REPOSITORY,
  type BarsCommitOutcome,
  type BarsRepository,
  DuplicateIngestionError,
  INGESTION_LOG,
  type IngestionLog,
  type IngestionRecord,
  ALPHAVANTAGE_SOURCE,
  BARS_FILE_READER,
  CORPORATE_ACTIONS_RECORDER,
  SYNTHETIC_GROUND_TRUTH_STORE,
  type AlphaVantageBarsSource,
  type BarsFileReader,
  type CorporateActionsRecorder,
  type SyntheticGroundTruthRow,
  type SyntheticGroundTruthStore,
} from '@strata/marketdata-contracts';
import { EVENT_BUS, type EventBus, type PayloadOf } from '@strata/platform-contracts';
import {
  BarsCsvFormatError,
  decodeBarColumns,
  decodeBarsCsv,
  validateBars,
  type BarBatch,
  ANOMALY_KINDS,
  generateSyntheticSeries,
  SyntheticConfigError,
  type SyntheticConfig,
} from '@strata/marketdata-domain';
import { uuidv7 } from '@strata/shared-util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { INGESTION_OPTIONS, type IngestionOptions } from './ingestion.tokens';

/** Payload of `marketdata.cmd.ingest.v1` after validation. */
export type IngestCommand = PayloadOf<typeof IngestCommandV1>;

/** Start of `IngestResult.error` when the source itself could not be read (`errorKind` `source_unreadable`). */
export const SOURCE_UNREADABLE = 'cannot read source:';

/** Start of `IngestResult.error` when the source kind needs something this service lacks, e.g. no API key (`source_not_configured`). */
export const SOURCE_NOT_CONFIGURED = 'source not configured:';

/** Start of `IngestResult.error` when the source spec itself is invalid: bad synthetic config, interval ≠ timeframe (`source_invalid`). */
export const SOURCE_INVALID = 'invalid source:';

/** Start of `IngestResult.error` when a remote source failed: provider error, rate limit after retries (`source_failed`). */
export const SOURCE_FAILED = 'source failed:';

type SourceErrorKind = Extract<IngestErrorKind, `source_${string}`>;

const SOURCE_ERROR_TEXT: Readonly<Record<SourceErrorKind, string>> = {
  source_unreadable: SOURCE_UNREADABLE,
  source_not_configured: SOURCE_NOT_CONFIGURED,
  source_invalid: SOURCE_INVALID,
  source_failed: SOURCE_FAILED,
};

/** A source problem: its kind goes to the result's `errorKind`, its text (after the kind's prefix) to `error`. */
class SourceProblem extends Error {
  constructor(
    readonly kind: SourceErrorKind,
    message: string,
  ) {
    super(`${SOURCE_ERROR_TEXT[kind]} ${message}`);
  }
}

/**
 * A source resolved to its decoder's input: CSV text or bytes (decoded when ingested, so that a malformed header is a
 * failed ingest) or rows already decoded; plus what to do once its bars were stored.
 */
type ResolvedSource = ({ csv: string | Uint8Array } | { rows: BarRows }) & {
  afterCommit?: (result: IngestResult) => Promise<void>;
};

/** Parquet files start (and end) with these magic bytes. */
const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31];

/** Where a command came from, for the record and for event causation. */
export interface IngestMeta {
  correlationId?: string;
  /** Envelope id of the command. */
  causationId?: string | null;
  requestedBy?: string;
}

/**
 * The ingest use case: resolve the source (inline CSV; a CSV or Parquet file inside the allowed directories; Alpha
 * Vantage; the seeded synthetic generator), decode it into rows with its decoder and validate them with the one
 * `validateBars` (every rejected row kept with line and reason), recognise a batch committed before (same symbol,
 * timeframe and content hash → `duplicate`, no event), record the ingest, and publish
 * `marketdata.evt.bars.ingested.v1` once per committed batch. Idempotent: replaying the same command yields
 * `duplicate`. The event's envelope id is the ingestion id, so a retried publish is deduplicated by the bus. Never
 * throws for bad input: the result says `failed` with the reason (`error`) and its kind (`errorKind`).
 * With a bars store (`BARS_REPOSITORY`), the batch is committed first and `duplicate` means the store did not change
 * (see `commitAndAnnounce`).
 */
@Injectable()
export class IngestBarsUseCase {
  private readonly logger = new Logger('ingestion');

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(INGESTION_LOG) private readonly log: IngestionLog,
    @Inject(INGESTION_OPTIONS) private readonly options: IngestionOptions,
    /**
     * Where bars are committed (DuckDB in the embedded platform). With it, a batch is stored before its event is
     * published, and "duplicate" means "nothing in the store changed" (compare-before-write), not just "same file".
     */
    @Optional() @Inject(BARS_REPOSITORY) private readonly bars?: BarsRepository,
    /** Parquet reader (DuckDB `read_parquet`); without it a Parquet file is refused as not configured. */
    @Optional() @Inject(BARS_FILE_READER) private readonly fileReader?: BarsFileReader,
    /** Alpha Vantage; absent when `ALPHAVANTAGE_API_KEY` is unset. */
    @Optional() @Inject(ALPHAVANTAGE_SOURCE) private readonly alphaVantage?: AlphaVantageBarsSource,
    /** Records the splits and dividends a source reports (Alpha Vantage daily adjusted). */
    @Optional() @Inject(CORPORATE_ACTIONS_RECORDER) private readonly corporateActions?: CorporateActionsRecorder,
    /** Keeps the ground truth of synthetic ingests; the synthetic source needs it. */
    @Optional() @Inject(SYNTHETIC_GROUND_TRUTH_STORE) private readonly groundTruth?: SyntheticGroundTruthStore,
  ) {}

  async execute(cmd: IngestCommand, meta: IngestMeta = {}): Promise<IngestResult> {
    const id = uuidv7();
    const base = { id, symbol: cmd.symbol, timeframe: cmd.timeframe };
    const record = async (r: IngestResult): Promise<IngestResult> => {
      const entry: IngestionRecord = {
        ...r,
        recordedAt: new Date().toISOString(),
        requestedBy: meta.requestedBy ?? cmd.requestedBy,
        correlationId: meta.correlationId,
      };
      await this.log.record(entry);
      return r;
    };
    const failed = (
      errorKind: IngestErrorKind,
      error: string,
      rejects: IngestResult['rejects'] = [],
      batch?: BarBatch,
    ): Promise<IngestResult> =>
      record({
        ...base,
        status: 'failed',
        contentHash: batch?.contentHash ?? '',
        accepted: 0,
        rejected: rejects.length,
        rejects,
        gaps: [],
        from: null,
        to: null,
        error,
        errorKind,
      });

    let source: ResolvedSource;
    try {
      source = await this.resolveSource(cmd);
    } catch (e) {
      if (e instanceof SourceProblem) return failed(e.kind, e.message);
      if (e instanceof BarsCsvFormatError)
        return failed('malformed_input', e.message, [{ line: e.line, reason: 'unparsable', message: e.message }]);
      return failed('source_unreadable', `${SOURCE_UNREADABLE} ${(e as Error).message}`);
    }
    const result = await this.ingestInput(cmd, meta, id, source, record, failed);
    if (result.status !== 'failed' && source.afterCommit) await source.afterCommit(result);
    return result;
  }

  /** Decodes (CSV) and validates the source's rows, then commits and announces them: the path every source takes. */
  private async ingestInput(
    cmd: IngestCommand,
    meta: IngestMeta,
    id: string,
    source: ResolvedSource,
    record: (r: IngestResult) => Promise<IngestResult>,
    failed: (
      errorKind: IngestErrorKind,
      error: string,
      rejects?: IngestResult['rejects'],
      batch?: BarBatch,
    ) => Promise<IngestResult>,
  ): Promise<IngestResult> {
    const base = { id, symbol: cmd.symbol, timeframe: cmd.timeframe };

    let batch: BarBatch;
    try {
      batch = validateBars('csv' in source ? decodeBarsCsv(source.csv) : source.rows, { timeframe: cmd.timeframe });
    } catch (e) {
      if (e instanceof BarsCsvFormatError)
        return failed('malformed_input', e.message, [{ line: e.line, reason: 'unparsable', message: e.message }]);
      throw e;
    }
    if (batch.bars.length === 0) {
      const first = batch.rejects[0];
      const error =
        batch.rowsRead === 0
          ? 'line 2: no data rows after the header'
          : `no valid rows: all ${batch.rowsRead} rows rejected; first at line ${first.line}: ${first.message}`;
      return failed('no_valid_rows', error, batch.rejects, batch);
    }

    const result: IngestResult = {
      ...base,
      status: 'completed',
      contentHash: batch.contentHash,
      accepted: batch.bars.length,
      rejected: batch.rejects.length,
      rejects: batch.rejects,
      gaps: batch.gaps,
      from: batch.from,
      to: batch.to,
    };
    const previous = await this.log.findCompletedByContentHash(cmd.symbol, cmd.timeframe, batch.contentHash);
    if (this.bars) return this.commitAndAnnounce(this.bars, cmd, meta, batch, result, previous?.id, record);
    if (previous) return record({ ...result, status: 'duplicate', duplicateOf: previous.id });
    try {
      await record(result);
    } catch (e) {
      if (e instanceof DuplicateIngestionError)
        return record({ ...result, status: 'duplicate', duplicateOf: e.existingId });
      throw e;
    }
    await this.announceIngested(cmd, meta, batch, id);
    this.logger.log({
      msg: 'bars ingested',
      ingestionId: id,
      symbol: cmd.symbol,
      timeframe: cmd.timeframe,
      accepted: result.accepted,
      rejected: result.rejected,
      gaps: batch.gaps.length,
    });
    return result;
  }

  /** Publishes `marketdata.evt.bars.ingested.v1` for a committed batch (envelope id = ingestion id, so a retry is deduplicated). */
  private async announceIngested(
    cmd: IngestCommand,
    meta: IngestMeta,
    batch: BarBatch,
    id: string,
    changes: { changedFrom?: string; inserted?: number; updated?: number } = {},
  ): Promise<void> {
    await this.bus.publish(
      BarsIngestedV1,
      {
        ingestionId: id,
        symbol: cmd.symbol,
        timeframe: cmd.timeframe,
        from: batch.from!,
        to: batch.to!,
        rowCount: batch.bars.length,
        contentHash: batch.contentHash,
        rejectedCount: batch.rejects.length,
        ...changes,
      },
      { id, correlationId: meta.correlationId, causationId: meta.causationId ?? null },
    );
  }

  /**
   * With a bars store: commit first (one transaction; identical bars are not rewritten, corrected ones are replaced
   * and audited), then record, then announce. Nothing changed → `duplicate`, no event. Otherwise
   * `marketdata.evt.bars.ingested.v1` (envelope id = ingestion id) carries `changedFrom` so that consumers recompute
   * only the tail, and `marketdata.evt.bars.corrected.v1` follows when stored bars were replaced.
   */
  private async commitAndAnnounce(
    store: BarsRepository,
    cmd: IngestCommand,
    meta: IngestMeta,
    batch: BarBatch,
    result: IngestResult,
    previousId: string | undefined,
    record: (r: IngestResult) => Promise<IngestResult>,
  ): Promise<IngestResult> {
    const id = result.id;
    let outcome: BarsCommitOutcome;
    try {
      outcome = await store.commit({ ingestionId: id, symbol: cmd.symbol, timeframe: cmd.timeframe, bars: batch.bars });
    } catch (e) {
      this.logger.error({ msg: 'bars commit failed', ingestionId: id, err: (e as Error).message });
      return record({
        ...result,
        status: 'failed',
        accepted: 0,
        error: `cannot store the bars: ${(e as Error).message}`,
        errorKind: 'store_failed',
      });
    }
    const changes = { inserted: outcome.inserted, updated: outcome.updated, unchanged: outcome.unchanged };
    if (outcome.inserted + outcome.updated === 0) {
      return record({ ...result, changes, status: 'duplicate', ...(previousId ? { duplicateOf: previousId } : {}) });
    }
    let answer: IngestResult = { ...result, changes };
    try {
      await record(answer);
    } catch (e) {
      if (!(e instanceof DuplicateIngestionError)) throw e;
      // Same content as a batch committed earlier, yet the store had diverged since (a later correction) and this
      // commit restored it: the log keeps one completed record per content, so this one is a duplicate of it, but
      // the bars did change and downstream must hear of it.
      answer = await record({ ...answer, status: 'duplicate', duplicateOf: e.existingId });
    }
    const iso = (t: number | null) => new Date(t as number).toISOString();
    await this.announceIngested(cmd, meta, batch, id, {
      changedFrom: iso(outcome.changedFrom),
      inserted: outcome.inserted,
      updated: outcome.updated,
    });
    if (outcome.updated > 0) {
      await this.bus.publish(
        BarsCorrectedV1,
        {
          ingestionId: id,
          symbol: cmd.symbol,
          timeframe: cmd.timeframe,
          corrected: outcome.updated,
          from: iso(outcome.correctedFrom),
          to: iso(outcome.correctedTo),
        },
        { id: `${id}.corrected`, correlationId: meta.correlationId, causationId: id },
      );
    }
    this.logger.log({
      msg: 'bars ingested',
      ingestionId: id,
      symbol: cmd.symbol,
      timeframe: cmd.timeframe,
      accepted: result.accepted,
      rejected: result.rejected,
      gaps: batch.gaps.length,
      ...changes,
    });
    return answer;
  }

  /** Decodes Parquet bytes (also on disk at `path`) through the file reader; `label` names them in problems. */
  private async readParquet(bytes: Uint8Array, label: string, path: string): Promise<BarRows> {
    if (!this.fileReader)
      throw new SourceProblem(
        'source_not_configured',
        'Parquet files need a Parquet reader (DuckDB), which this ingestion service does not have',
      );
    if (!PARQUET_MAGIC.every((b, i) => bytes[i] === b))
      throw new SourceProblem('source_invalid', `${label} is not a Parquet file (no PAR1 magic bytes)`);
    try {
      return await this.fileReader.readParquet(path);
    } catch (e) {
      if (e instanceof BarsCsvFormatError) throw e;
      throw new SourceProblem('source_invalid', `${label} could not be read as Parquet: ${(e as Error).message}`);
    }
  }

  /**
   * Turns the command's source into its decoder's input: inline CSV as is; a file (CSV, or Parquet by `.parquet` name
   * or `PAR1` magic, decoded into rows by {@link BarsFileReader}, row i at line i + 1); a staged upload read from the
   * staging artifact store (CSV bytes, or Parquet through a temporary file); Alpha Vantage rows through its
   * port (its splits and dividends recorded after the commit); synthetic series from the seeded generator, decoded
   * as columns (its ground truth stored after the commit). Throws {@link SourceProblem} for configuration and spec
   * problems, `BarsCsvFormatError` for a Parquet file whose columns are not bars.
   */
  private async resolveSource(cmd: IngestCommand): Promise<ResolvedSource> {
    const src = cmd.source;
    switch (src.kind) {
      case 'csv':
        return { csv: src.csv };
      case 'file': {
        const bytes = await this.readAllowedFile(src.path);
        const isParquet = /\.parquet$/i.test(src.path) || PARQUET_MAGIC.every((b, i) => bytes[i] === b);
        if (!isParquet) return { csv: bytes };
        return { rows: await this.readParquet(bytes, src.path, resolve(src.path)) };
      }
      case 'staged': {
        if (!this.options.staging)
          throw new SourceProblem(
            'source_not_configured',
            'staged uploads need the staging artifact store, which this ingestion service does not have',
          );
        const bytes = await this.options.staging.get(src.key);
        if (bytes === null)
          throw new SourceProblem(
            'source_unreadable',
            `staged upload ${src.key} is not in the staging store (expired, or staged to another store)`,
          );
        if (src.format === 'csv') return { csv: bytes };
        // DuckDB's read_parquet reads files: a private temporary copy, removed once decoded.
        const dir = await mkdtemp(join(tmpdir(), 'strata-staged-'));
        try {
          const path = join(dir, 'upload.parquet');
          await writeFile(path, bytes, { mode: 0o600 });
          return { rows: await this.readParquet(bytes, `staged upload ${src.key}`, path) };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      case 'alphavantage': {
        if (!this.alphaVantage)
          throw new SourceProblem(
            'source_not_configured',
            "the Alpha Vantage source needs ALPHAVANTAGE_API_KEY in the ingestion service's environment",
          );
        let fetched;
        try {
          fetched = await this.alphaVantage.fetch(cmd.symbol, cmd.timeframe, src);
        } catch (e) {
          throw new SourceProblem(
            e instanceof RangeError ? 'source_invalid' : 'source_failed',
            `Alpha Vantage: ${(e as Error).message}`,
          );
        }
        if (fetched.issues?.length)
          this.logger.warn({
            msg: 'Alpha Vantage corporate-action fields not understood',
            symbol: cmd.symbol,
            issues: fetched.issues,
          });
        const actions = fetched.corporateActions;
        const recorder = this.corporateActions;
        if (actions.length && !recorder)
          this.logger.warn({
            msg: 'corporate actions from Alpha Vantage not recorded: no corporate-actions service here',
            symbol: cmd.symbol,
            count: actions.length,
          });
        return {
          rows: fetched.rows,
          afterCommit:
            recorder && actions.length ? async () => void (await recorder.recordCorporateActions(actions)) : undefined,
        };
      }
      case 'synthetic': {
        const store = this.groundTruth;
        if (!store)
          throw new SourceProblem(
            'source_not_configured',
            'the synthetic source needs a ground-truth store (DuckDB), which this ingestion service does not have',
          );
        const c = src.config ?? {};
        const config: SyntheticConfig = {
          seed: src.seed,
          bars: src.bars,
          timeframe: cmd.timeframe,
          ...(src.start ? { start: src.start } : {}),
          ...(c.initialPrice !== undefined ? { initialPrice: c.initialPrice } : {}),
          ...(c.regimes ? { regimes: c.regimes } : {}),
          ...(c.transitionMatrix ? { transitionMatrix: c.transitionMatrix } : {}),
          ...(c.priceDecimals !== undefined ? { priceDecimals: c.priceDecimals } : {}),
          ...(c.anomalyRates ? { anomalies: { rates: c.anomalyRates } } : {}),
        };
        let series;
        try {
          series = generateSyntheticSeries(config);
        } catch (e) {
          if (e instanceof SyntheticConfigError || e instanceof RangeError)
            throw new SourceProblem('source_invalid', e.message);
          throw e;
        }
        const { truth } = series;
        const rows: SyntheticGroundTruthRow[] = new Array(series.length);
        for (let i = 0; i < series.length; i++) {
          const code = truth.anomaly[i];
          rows[i] = {
            ts: series.ts[i],
            regime: truth.regimeNames[truth.regime[i]],
            anomaly: code === 0 ? null : ANOMALY_KINDS[code - 1],
          };
        }
        return {
          rows: decodeBarColumns(series),
          afterCommit: (r) => store.save(r.id, cmd.symbol, cmd.timeframe, rows),
        };
      }
    }
  }

  /** Reads a file only when it lies inside one of the allowed roots (no `..` escapes, no absolute elsewhere). */
  private async readAllowedFile(path: string): Promise<Uint8Array> {
    const target = resolve(path);
    const ok = this.options.allowedFileRoots.some((root) => {
      const rel = relative(resolve(root), target);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    });
    if (!ok) throw new Error(`${path} is outside the allowed directories`);
    return readFile(target);
  }
}
