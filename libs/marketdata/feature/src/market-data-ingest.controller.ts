import type {} from '@fastify/multipart';
import { Controller, HttpStatus, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { EVENT_BUS, type EventBus } from '@strata/platform-contracts';
import {
  IngestCommandV1,
  IngestResultSchema,
  ClientIngestSourceSchema,
  SymbolSchema,
  TimeframeSchema,
  type IngestResult,
  type IngestSource,
} from '@strata/marketdata-contracts';
import {
  busErrorProblem,
  isBusError,
  parseOrThrow,
  ProblemException,
  problemType,
  Roles,
  zodToOpenApi,
  type AuthenticatedRequest,
} from '@strata/platform-http';
import { DEFAULT_INLINE_MAX_BYTES } from '@strata/shared-util';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { INGESTION_HTTP_OPTIONS, type IngestionHttpOptions } from './ingestion.tokens';

/** JSON body of `POST /market-data/ingest` carrying the CSV text. */
export const IngestCsvJsonBodySchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  csv: z
    .string()
    .min(1)
    .describe('The CSV text: header timestamp,open,high,low,close,volume[,adj_close], then one bar per line.'),
});

/** JSON body of `POST /market-data/ingest` naming a source spec (Alpha Vantage, synthetic, a server-side file, inline CSV). */
export const IngestSourceJsonBodySchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  source: ClientIngestSourceSchema.describe(
    'alphavantage {function: daily_adjusted|intraday, interval?, outputsize?}; synthetic {seed, bars, start?, config?}; file {path} (CSV or .parquet inside the allowed directories); csv {csv}. (staged is internal: large uploads are staged by this endpoint.)',
  ),
});

/** JSON body of `POST /market-data/ingest`: `{ symbol, timeframe, csv }` or `{ symbol, timeframe, source }`. */
export const IngestJsonBodySchema = z.union([IngestCsvJsonBodySchema, IngestSourceJsonBodySchema]);

/** Parquet upload: by file name, media type or the `PAR1` magic bytes. */
function isParquetUpload(filename: string | undefined, mimetype: string | undefined, bytes: Uint8Array): boolean {
  return (
    /\.parquet$/i.test(filename ?? '') ||
    mimetype === 'application/vnd.apache.parquet' ||
    (bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31)
  );
}

/** Text fields of the multipart form of `POST /market-data/ingest` (the CSV is the `file` part). */
export const IngestFormFieldsSchema = z.object({ symbol: SymbolSchema, timeframe: TimeframeSchema });

/** The multipart form: the text fields as {@link IngestFormFieldsSchema} validates them, and the file. */
const fields = zodToOpenApi(IngestFormFieldsSchema) as { properties: Record<string, unknown>; required: string[] };
const MULTIPART_SCHEMA = {
  type: 'object',
  required: ['file', ...fields.required],
  properties: {
    file: {
      type: 'string',
      format: 'binary',
      minLength: 1,
      description:
        'CSV file (timestamp,open,high,low,close,volume[,adj_close]) or Parquet file with those columns (by .parquet name, media type application/vnd.apache.parquet or PAR1 magic); Parquet row i is reported as line i + 1 (virtual header).',
    },
    ...fields.properties,
  },
};

/**
 * `POST /market-data/ingest` (operator): accepts a CSV as multipart/form-data (`file`, `symbol`, `timeframe`) or as
 * JSON `{ symbol, timeframe, csv }`, sends `marketdata.cmd.ingest.v1` and answers with the ingest result:
 * 201 `completed` (Location: the ingestion), 200 `duplicate` (the same batch was committed before, no event),
 * 422 problem+json for a CSV or Parquet without valid bars, naming the line(s). A CSV above `inlineMaxBytes` and every Parquet upload is
 * put in the staging artifact store and the command names its key (`source.kind = "staged"`), so no large body rides
 * in a bus message; the staged object is removed once the ingestion service answered (the bucket's TTL is the net).
 * A message still too large for the bus answers 413, an absent ingestion service 503, other bus failures 500.
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
    summary: 'Ingest OHLCV bars: a CSV or Parquet upload, or a source spec (Alpha Vantage, synthetic, file)',
    description:
      'Multipart: a CSV or Parquet file. JSON: { symbol, timeframe, csv } or { symbol, timeframe, source }. An unconfigured source (e.g. Alpha Vantage without ALPHAVANTAGE_API_KEY) or an invalid source spec answers 422, a failing provider 502. Validates every row; rejected rows are listed with their 1-based line (header = line 1) and reason. Publishes marketdata.evt.bars.ingested.v1 once per committed batch. Re-posting identical data answers 200 with status "duplicate" and publishes nothing.',
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': { schema: MULTIPART_SCHEMA },
        'application/json': { schema: zodToOpenApi(IngestJsonBodySchema) },
      },
    },
  })
  @ApiCreatedResponse({
    description: 'Batch committed (status "completed").',
    schema: zodToOpenApi(IngestResultSchema) as never,
    links: {
      readIngestion: {
        operationId: 'IngestionsController_get',
        parameters: { id: '$response.body#/id' },
        description: 'The ingestion: GET /market-data/ingestions/{id} (also the Location header).',
      },
    },
  })
  @ApiOkResponse({
    description: 'Identical batch committed before (status "duplicate"); no event.',
    schema: zodToOpenApi(IngestResultSchema) as never,
  })
  @ApiBadRequestResponse({
    description:
      'The JSON or multipart request does not match its schema (application/problem+json with errors[].field).',
  })
  @ApiResponse({ status: 413, description: 'The body or the uploaded file is larger than the limit.' })
  @ApiResponse({ status: 415, description: 'The body is neither application/json nor multipart/form-data.' })
  @ApiUnprocessableEntityResponse({
    description:
      'The CSV or Parquet holds no valid bars (errors[].line: each rejected line with its reason), or the source spec is invalid, unreadable or not configured on this deployment (source-not-configured, e.g. no ALPHAVANTAGE_API_KEY).',
  })
  @ApiResponse({ status: 502, description: 'The source (Alpha Vantage) failed.' })
  @ApiServiceUnavailableResponse({
    description: 'The ingestion service is not available, or could not read the staged upload.',
  })
  async ingest(
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IngestResult> {
    const request = await this.readRequest(req);
    const { symbol, timeframe } = request;
    let staged: string | undefined;
    let source: IngestSource;
    const inlineMax = this.options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
    if ('source' in request) {
      source = request.source;
    } else if (request.parquet || Buffer.byteLength(request.csv) > inlineMax) {
      // Parquet is binary: it always travels staged, and the ingestion service reads it with DuckDB.
      const format = request.parquet ? 'parquet' : 'csv';
      const bytes = typeof request.csv === 'string' ? Buffer.from(request.csv, 'utf8') : request.csv;
      staged = (await this.options.staging.put(bytes, { extension: `.${format}` })).key;
      source = { kind: 'staged', key: staged, format };
    } else {
      const csv = request.csv;
      source = {
        kind: 'csv',
        csv: typeof csv === 'string' ? csv : Buffer.from(csv.buffer, csv.byteOffset, csv.byteLength).toString('utf8'),
      };
    }
    let result: IngestResult;
    try {
      result = await this.bus.request(
        IngestCommandV1,
        { symbol, timeframe, source, requestedBy: req.principal?.keyId },
        { timeoutMs: this.options.requestTimeoutMs ?? 120_000, correlationId: String(req.id) },
      );
    } catch (e) {
      if (!isBusError(e)) throw e;
      if (e.code !== 'payload_too_large' && e.code !== 'no_responders' && e.code !== 'unavailable')
        this.logger.error({ msg: 'ingest request failed', err: { code: e.code, message: e.message } });
      throw busErrorProblem(e, 'ingestion');
    } finally {
      if (staged) await this.options.staging.delete(staged).catch(() => undefined);
    }
    if (result.status === 'failed' && result.errorKind === 'source_unreadable' && source.kind === 'file') {
      // A path the client named (JSON `source.kind = "file"`): outside the allowed directories or missing.
      throw new ProblemException({
        type: problemType('invalid-source'),
        title: 'Invalid source',
        status: 422,
        detail: result.error,
        errors: [{ field: 'body.source.path', reason: 'unreadable', message: result.error ?? '' }],
        ingestionId: result.id,
      });
    }
    if (result.status === 'failed' && result.errorKind === 'source_unreadable') {
      // The upload is fine as far as we know: the service could not read what this side staged (different stores).
      this.logger.error({
        msg: 'ingestion service could not read the staged upload',
        ingestionId: result.id,
        error: result.error,
      });
      throw new ProblemException({
        type: problemType('upload-unavailable'),
        status: 503,
        detail: `the ingestion service could not read the staged upload (${result.error}); uploads larger than ${inlineMax} bytes (STRATA_INLINE_MAX_BYTES) go through the staging artifact store, which both sides must share (the strata-staging bucket on NATS)`,
        ingestionId: result.id,
      });
    }
    const sourceProblem = result.status === 'failed' ? this.sourceProblem(result) : undefined;
    if (sourceProblem) throw sourceProblem;
    if (result.status === 'failed') {
      // `malformed_input` and `no_valid_rows` (and, as before kinds existed, `store_failed`): 422 naming the lines. The
      // request itself is well formed (its JSON or multipart matches the schema); the file it carries is not bars.
      throw new ProblemException({
        type: problemType('invalid-csv'),
        title: 'Malformed CSV',
        status: 422,
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

  /** Problems of the source rather than of the data (by `errorKind`): 422 not configured or invalid spec, 502 provider failure. */
  private sourceProblem(result: IngestResult): ProblemException | undefined {
    const error = result.error ?? '';
    if (result.errorKind === 'source_not_configured') {
      // 422, not 503: retrying does not help; the deployment lacks what this source needs (e.g. an API key).
      return new ProblemException({
        type: problemType('source-not-configured'),
        title: 'Source not configured',
        status: 422,
        detail: error,
        ingestionId: result.id,
      });
    }
    if (result.errorKind === 'source_invalid') {
      return new ProblemException({
        type: problemType('invalid-source'),
        title: 'Invalid source',
        status: 422,
        detail: error,
        errors: [{ field: 'body.source', reason: 'invalid', message: error }],
        ingestionId: result.id,
      });
    }
    if (result.errorKind === 'source_failed') {
      return new ProblemException({
        type: problemType('source-failed'),
        title: 'Source failed',
        status: 502,
        detail: error,
        ingestionId: result.id,
      });
    }
    return undefined;
  }

  /** Reads multipart (file + fields) or JSON into symbol, timeframe and the file bytes or a source spec; 400 problem+json otherwise. */
  private async readRequest(
    req: AuthenticatedRequest,
  ): Promise<
    | { symbol: string; timeframe: z.output<typeof TimeframeSchema>; csv: string | Uint8Array; parquet: boolean }
    | { symbol: string; timeframe: z.output<typeof TimeframeSchema>; source: IngestSource }
  > {
    if (req.isMultipart()) {
      const fields: Record<string, string> = {};
      let file: Uint8Array | undefined;
      let filename: string | undefined;
      let mimetype: string | undefined;
      try {
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file') {
              part.file.resume();
              throw ProblemException.validation(`unexpected file field "${part.fieldname}"; send the CSV as "file"`, [
                {
                  field: `form.${part.fieldname}`,
                  reason: 'unexpected_file',
                  message: 'only the "file" field may carry a file',
                },
              ]);
            }
            file = await part.toBuffer();
            filename = part.filename;
            mimetype = part.mimetype;
          } else {
            fields[part.fieldname] = String(part.value);
          }
        }
      } catch (e) {
        // The parser's own errors (a truncated or garbled body) are the client's: 400, not 500. Limits keep their 413.
        const status = (e as { statusCode?: unknown }).statusCode;
        if (e instanceof ProblemException || (typeof status === 'number' && status < 500)) throw e;
        const message = (e as Error).message ?? String(e);
        throw ProblemException.validation(`the multipart body is malformed: ${message}`, [
          { field: 'form', reason: 'malformed_multipart', message },
        ]);
      }
      const parsed = parseOrThrow(IngestFormFieldsSchema, fields, 'form');
      if (!file || file.byteLength === 0) {
        throw ProblemException.validation('the multipart form needs a non-empty "file" part with the CSV', [
          { field: 'form.file', reason: 'required', message: 'a CSV file is required' },
        ]);
      }
      return { ...parsed, csv: file, parquet: isParquetUpload(filename, mimetype, file) };
    }
    const raw = (req.body ?? {}) as Record<string, unknown>;
    if (raw && typeof raw === 'object' && 'source' in raw) {
      // `staged` is not a client's source kind (the schema has no such branch): uploads go as multipart.
      const body = parseOrThrow(IngestSourceJsonBodySchema, raw, 'body');
      return { symbol: body.symbol, timeframe: body.timeframe, source: body.source };
    }
    const body = parseOrThrow(IngestCsvJsonBodySchema, raw, 'body');
    return { symbol: body.symbol, timeframe: body.timeframe, csv: body.csv, parquet: false };
  }
}
