import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { BarsCorrectedV1, BarsIngestedV1, EVENT_BUS, type EventBus, type IngestCommandV1, type IngestResult, type PayloadOf } from '@strata/contracts';
import { BarsCsvFormatError, readBarsCsv, type BarBatch } from '@strata/domain-marketdata';
import { BARS_REPOSITORY, type BarsCommitOutcome, type BarsRepository } from '@strata/feature-marketdata';
import { uuidv7 } from '@strata/util';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { DuplicateIngestionError, INGESTION_LOG, type IngestionLog, type IngestionRecord } from './ingestion-log.port';
import { INGESTION_OPTIONS, type IngestionOptions } from './ingestion.tokens';

/** Payload of `marketdata.cmd.ingest.v1` after validation. */
export type IngestCommand = PayloadOf<typeof IngestCommandV1>;

/** Prefix of `IngestResult.error` when the source itself could not be read (a server-side problem, not bad CSV). */
export const SOURCE_UNREADABLE = 'cannot read source:';

/** Where a command came from, for the record and for event causation. */
export interface IngestMeta {
  correlationId?: string;
  /** Envelope id of the command. */
  causationId?: string | null;
  requestedBy?: string;
}

/**
 * The ingest use case: read the source, parse and validate the CSV (every rejected row kept with line and
 * reason), recognise a batch committed before (same symbol, timeframe and content hash → `duplicate`, no event),
 * record the ingest, and publish `marketdata.evt.bars.ingested.v1` once per committed batch. Idempotent: replaying
 * the same command yields `duplicate`. The event's envelope id is the ingestion id, so a retried publish is
 * deduplicated by the bus. Never throws for bad input: the result says `failed` with the reason.
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
  ) {}

  async execute(cmd: IngestCommand, meta: IngestMeta = {}): Promise<IngestResult> {
    const id = uuidv7();
    const base = { id, symbol: cmd.symbol, timeframe: cmd.timeframe };
    const record = async (r: IngestResult): Promise<IngestResult> => {
      const entry: IngestionRecord = { ...r, recordedAt: new Date().toISOString(), requestedBy: meta.requestedBy ?? cmd.requestedBy, correlationId: meta.correlationId };
      await this.log.record(entry);
      return r;
    };
    const failed = (error: string, rejects: IngestResult['rejects'] = [], batch?: BarBatch): Promise<IngestResult> =>
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
      });

    let input: string | Uint8Array;
    try {
      input = cmd.source.kind === 'csv' ? cmd.source.csv : await this.readAllowedFile(cmd.source.path);
    } catch (e) {
      return failed(`${SOURCE_UNREADABLE} ${(e as Error).message}`);
    }

    let batch: BarBatch;
    try {
      batch = readBarsCsv(input, { timeframe: cmd.timeframe });
    } catch (e) {
      if (e instanceof BarsCsvFormatError) return failed(e.message, [{ line: e.line, reason: 'unparsable', message: e.message }]);
      throw e;
    }
    if (batch.bars.length === 0) {
      const first = batch.rejects[0];
      const error =
        batch.rowsRead === 0 ? 'line 2: no data rows after the header' : `no valid rows: all ${batch.rowsRead} rows rejected; first at line ${first.line}: ${first.message}`;
      return failed(error, batch.rejects, batch);
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
      if (e instanceof DuplicateIngestionError) return record({ ...result, status: 'duplicate', duplicateOf: e.existingId });
      throw e;
    }
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
      },
      { id, correlationId: meta.correlationId, causationId: meta.causationId ?? null },
    );
    this.logger.log({ msg: 'bars ingested', ingestionId: id, symbol: cmd.symbol, timeframe: cmd.timeframe, accepted: result.accepted, rejected: result.rejected, gaps: batch.gaps.length });
    return result;
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
      return record({ ...result, status: 'failed', accepted: 0, error: `cannot store the bars: ${(e as Error).message}` });
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
        changedFrom: iso(outcome.changedFrom),
        inserted: outcome.inserted,
        updated: outcome.updated,
      },
      { id, correlationId: meta.correlationId, causationId: meta.causationId ?? null },
    );
    if (outcome.updated > 0) {
      await this.bus.publish(
        BarsCorrectedV1,
        { ingestionId: id, symbol: cmd.symbol, timeframe: cmd.timeframe, corrected: outcome.updated, from: iso(outcome.correctedFrom), to: iso(outcome.correctedTo) },
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
