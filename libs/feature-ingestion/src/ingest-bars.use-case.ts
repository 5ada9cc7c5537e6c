import { Inject, Injectable, Logger } from '@nestjs/common';
import { BarsIngestedV1, EVENT_BUS, type EventBus, type IngestCommandV1, type IngestResult, type PayloadOf } from '@strata/contracts';
import { BarsCsvFormatError, readBarsCsv, type BarBatch } from '@strata/domain-marketdata';
import { uuidv7 } from '@strata/util';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { DuplicateIngestionError, INGESTION_LOG, type IngestionLog, type IngestionRecord } from './ingestion-log.port';
import { INGESTION_OPTIONS, type IngestionOptions } from './ingestion.tokens';

/** Payload of `marketdata.cmd.ingest.v1` after validation. */
export type IngestCommand = PayloadOf<typeof IngestCommandV1>;

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
 */
@Injectable()
export class IngestBarsUseCase {
  private readonly logger = new Logger('ingestion');

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(INGESTION_LOG) private readonly log: IngestionLog,
    @Inject(INGESTION_OPTIONS) private readonly options: IngestionOptions,
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
      return failed(`cannot read source: ${(e as Error).message}`);
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
