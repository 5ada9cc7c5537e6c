import type {} from '@fastify/multipart';
import { Controller, HttpStatus, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_BUS, IngestCommandV1, IngestResultSchema, SymbolSchema, TimeframeSchema, type EventBus, type IngestResult, type IngestSource } from '@strata/contracts';
import { parseOrThrow, ProblemException, problemType, Roles, zodToOpenApi, type AuthenticatedRequest } from '@strata/http';
import { uuidv7 } from '@strata/util';
import type { FastifyReply } from 'fastify';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SOURCE_UNREADABLE } from './ingest-bars.use-case';
import { INGESTION_HTTP_OPTIONS, type IngestionHttpOptions } from './ingestion.tokens';

/** JSON body of `POST /market-data/ingest`. */
export const IngestJsonBodySchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  csv: z.string().min(1).describe('The CSV text: header timestamp,open,high,low,close,volume[,adj_close], then one bar per line.'),
});

/** Text fields of the multipart form of `POST /market-data/ingest` (the CSV is the `file` part). */
export const IngestFormFieldsSchema = z.object({ symbol: SymbolSchema, timeframe: TimeframeSchema });

const MULTIPART_SCHEMA = {
  type: 'object',
  required: ['file', 'symbol', 'timeframe'],
  properties: {
    file: { type: 'string', format: 'binary', description: 'CSV file: timestamp,open,high,low,close,volume[,adj_close].' },
    symbol: { type: 'string', example: 'SPY' },
    timeframe: { type: 'string', enum: TimeframeSchema.options },
  },
};

interface BusErrorLike {
  name?: string;
  code?: string;
  message?: string;
}

/**
 * `POST /market-data/ingest` (operator): accepts a CSV as multipart/form-data (`file`, `symbol`, `timeframe`) or as
 * JSON `{ symbol, timeframe, csv }`, sends `marketdata.cmd.ingest.v1` and answers with the ingest result:
 * 201 `completed` (Location: the ingestion), 200 `duplicate` (the same batch was committed before, no event),
 * 400 problem+json for a malformed CSV, naming the line(s).
 */
@ApiTags('market-data')
@Controller('market-data')
export class MarketDataIngestController {
  private readonly logger = new Logger('ingestion-http');

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(INGESTION_HTTP_OPTIONS) private readonly options: IngestionHttpOptions,
  ) {}

  @Post('ingest')
  @Roles('operator')
  @ApiOperation({
    summary: 'Ingest a CSV of OHLCV bars',
    description:
      'Validates every row; rejected rows are listed with their 1-based line (header = line 1) and reason. Publishes marketdata.evt.bars.ingested.v1 once per committed batch. Re-posting identical data answers 200 with status "duplicate" and publishes nothing.',
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': { schema: MULTIPART_SCHEMA },
        'application/json': { schema: zodToOpenApi(IngestJsonBodySchema) },
      },
    },
  })
  @ApiCreatedResponse({ description: 'Batch committed (status "completed").', schema: zodToOpenApi(IngestResultSchema) as never })
  @ApiOkResponse({ description: 'Identical batch committed before (status "duplicate"); no event.', schema: zodToOpenApi(IngestResultSchema) as never })
  @ApiBadRequestResponse({ description: 'Malformed request or CSV (application/problem+json with errors[].line / errors[].field).' })
  async ingest(@Req() req: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<IngestResult> {
    const { symbol, timeframe, csv } = await this.readRequest(req);
    let staged: string | undefined;
    let source: IngestSource;
    const inlineMax = this.options.inlineMaxBytes ?? 512 * 1024;
    if (csv.byteLength <= inlineMax) {
      source = { kind: 'csv', csv: Buffer.from(csv.buffer, csv.byteOffset, csv.byteLength).toString('utf8') };
    } else {
      await mkdir(this.options.uploadDir, { recursive: true });
      staged = join(this.options.uploadDir, `${uuidv7()}.csv`);
      await writeFile(staged, csv, { mode: 0o600 });
      source = { kind: 'file', path: staged };
    }
    let result: IngestResult;
    try {
      result = await this.bus.request(
        IngestCommandV1,
        { symbol, timeframe, source, requestedBy: req.principal?.keyId },
        { timeoutMs: this.options.requestTimeoutMs ?? 120_000, correlationId: String(req.id) },
      );
    } catch (e) {
      throw this.busProblem(e as BusErrorLike);
    } finally {
      if (staged) await rm(staged, { force: true });
    }
    if (result.status === 'failed' && result.error?.startsWith(SOURCE_UNREADABLE)) {
      // The CSV is fine as far as we know: the service could not read what the gateway staged (no shared volume).
      this.logger.error({ msg: 'ingestion service could not read the staged upload', ingestionId: result.id, error: result.error });
      throw new ProblemException({
        type: problemType('upload-unavailable'),
        status: 503,
        detail: `the ingestion service could not read the uploaded file (${result.error}); uploads larger than ${inlineMax} bytes need an uploads directory shared by gateway and ingestion (STRATA_DATA_DIR/uploads)`,
        ingestionId: result.id,
      });
    }
    if (result.status === 'failed') {
      throw new ProblemException({
        type: problemType('invalid-csv'),
        title: 'Malformed CSV',
        status: 400,
        detail: result.error ?? 'the CSV could not be ingested',
        errors: result.rejects.map((r) => ({ line: r.line, reason: r.reason, message: r.message })),
        ingestionId: result.id,
      });
    }
    if (result.status === 'completed') {
      void reply.status(HttpStatus.CREATED).header('location', `/market-data/ingestions/${result.id}`);
    } else {
      void reply.status(HttpStatus.OK);
    }
    return result;
  }

  /** Reads multipart (file + fields) or JSON into symbol, timeframe and CSV bytes; 400 problem+json otherwise. */
  private async readRequest(req: AuthenticatedRequest): Promise<{ symbol: string; timeframe: z.output<typeof TimeframeSchema>; csv: Uint8Array }> {
    if (req.isMultipart()) {
      const fields: Record<string, string> = {};
      let file: Uint8Array | undefined;
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file') {
            part.file.resume();
            throw ProblemException.validation(`unexpected file field "${part.fieldname}"; send the CSV as "file"`, [
              { field: `form.${part.fieldname}`, reason: 'unexpected_file', message: 'only the "file" field may carry a file' },
            ]);
          }
          file = await part.toBuffer();
        } else {
          fields[part.fieldname] = String(part.value);
        }
      }
      const parsed = parseOrThrow(IngestFormFieldsSchema, fields, 'form');
      if (!file || file.byteLength === 0) {
        throw ProblemException.validation('the multipart form needs a non-empty "file" part with the CSV', [
          { field: 'form.file', reason: 'required', message: 'a CSV file is required' },
        ]);
      }
      return { ...parsed, csv: file };
    }
    const body = parseOrThrow(IngestJsonBodySchema, req.body ?? {}, 'body');
    return { symbol: body.symbol, timeframe: body.timeframe, csv: Buffer.from(body.csv, 'utf8') };
  }

  private busProblem(e: BusErrorLike): ProblemException {
    if (e?.name === 'BusError' && (e.code === 'no_responders' || e.code === 'closed' || e.code === 'unavailable')) {
      return new ProblemException({ type: problemType('unavailable'), status: 503, detail: `the ingestion service is not available (${e.code})` });
    }
    if (e?.name === 'BusError' && e.code === 'timeout') {
      return new ProblemException({ type: problemType('timeout'), status: 504, detail: 'the ingestion service did not answer in time' });
    }
    this.logger.error({ msg: 'ingest request failed', err: { name: e?.name, code: e?.code, message: e?.message } });
    return new ProblemException({ type: problemType('internal'), status: 500, detail: 'ingest failed; see the server log for this request id' });
  }
}
