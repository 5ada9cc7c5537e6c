import { Controller, Get, Header, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  BarCorrectionSchema,
  BarsPageSchema,
  BarsQuerySchema,
  CorporateActionSchema,
  CorrectionsQuerySchema,
  RecordCorporateActionsBodySchema,
  RecordCorporateActionsResultSchema,
  SymbolSchema,
  SymbolsPageSchema,
  SymbolsQuerySchema,
  type BarCorrection,
  type BarColumns,
  type BarsQuery,
  type CorporateAction,
  type RecordCorporateActionsBody,
  type RecordCorporateActionsResult,
  type SymbolsPage,
} from '@strata/marketdata-contracts';
import {
  invalidCursor,
  decodeCursor,
  encodeCursor,
  ProblemException,
  problemType,
  Roles,
  ZodBody,
  ZodQuery,
  zodToOpenApi,
} from '@strata/platform-http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ARROW_STREAM, negotiateFormat, TEXT_CSV, toArrowIpc, toCsv, type OutputColumn } from './columnar.formats';
import { MarketDataService } from './market-data.service';

const isNumber = (k: unknown): k is number => typeof k === 'number' && Number.isSafeInteger(k);
const isSeriesKey = (k: unknown): k is { symbol: string; timeframe: string } =>
  !!k &&
  typeof k === 'object' &&
  typeof (k as { symbol?: unknown }).symbol === 'string' &&
  typeof (k as { timeframe?: unknown }).timeframe === 'string';

/** 406 problem naming the offered media types. */
export function notAcceptable(offered: string[]): ProblemException {
  return new ProblemException({
    type: problemType('not-acceptable'),
    status: 406,
    detail: `this resource is available as ${offered.join(', ')}`,
  });
}

/**
 * Market-data REST: bars (JSON, CSV or Arrow IPC by `Accept`, raw or adjusted), stored series, correction audit and
 * corporate actions. All reads need a viewer key; recording corporate actions needs an operator key.
 */
@ApiTags('market-data')
@Controller('market-data')
export class MarketDataController {
  constructor(private readonly service: MarketDataService) {}

  @Get('bars')
  @Roles('viewer')
  @ApiOperation({
    summary: 'Bars of one series, raw or adjusted, paginated',
    description:
      'Ascending by bar start time. `adjust=split` divides prices (and multiplies volume) by the cumulative split ratio of every split after the bar; `adjust=total` also multiplies prices by the CRSP dividend factors (1 − dividend/previous close). Answers JSON (default), CSV (`Accept: text/csv`) or an Arrow IPC stream (`Accept: application/vnd.apache.arrow.stream`); for CSV and Arrow the next cursor is in the `X-Next-Cursor` header and a `Link: rel="next"` header.',
  })
  @ApiProduces('application/json', TEXT_CSV, ARROW_STREAM)
  @ApiOkResponse({ schema: zodToOpenApi(BarsPageSchema) as never })
  async bars(
    @ZodQuery(BarsQuerySchema) q: BarsQuery,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | Buffer> {
    const format = negotiateFormat(req.headers.accept);
    if (!format) throw notAcceptable(['application/json', TEXT_CSV, ARROW_STREAM]);
    const filter = `bars|${q.symbol}|${q.timeframe}|${q.from ?? ''}|${q.to ?? ''}|${q.adjust}`;
    let after: number | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor, filter, isNumber);
      if (after === undefined) throw invalidCursor();
    }
    const { bars } = await this.service.getBars({
      symbol: q.symbol,
      timeframe: q.timeframe,
      from: q.from,
      to: q.to,
      after,
      limit: q.limit + 1,
      adjust: q.adjust,
    });
    const n = Math.min(bars.length, q.limit);
    const nextCursor = bars.length > q.limit ? encodeCursor(bars.ts[n - 1], filter) : null;
    if (format === 'json') {
      void reply.header('content-type', 'application/json; charset=utf-8');
      return barsPageJson(q, bars, n, nextCursor);
    }
    const columns: OutputColumn[] = [
      { name: 'timestamp', kind: 'timestamp', values: bars.ts },
      { name: 'open', kind: 'double', values: bars.open },
      { name: 'high', kind: 'double', values: bars.high },
      { name: 'low', kind: 'double', values: bars.low },
      { name: 'close', kind: 'double', values: bars.close },
      { name: 'volume', kind: 'double', values: bars.volume },
    ];
    if (bars.adjClose) columns.push({ name: 'adj_close', kind: 'double', values: bars.adjClose });
    setNextCursorHeaders(reply, req, nextCursor);
    void reply.header('x-symbol', q.symbol).header('x-timeframe', q.timeframe).header('x-adjust', q.adjust);
    if (format === 'csv') {
      void reply.header('content-type', `${TEXT_CSV}; charset=utf-8`);
      return toCsv(columns, n);
    }
    void reply.header('content-type', ARROW_STREAM);
    const ipc = toArrowIpc(columns, n, {
      symbol: q.symbol,
      timeframe: q.timeframe,
      adjust: q.adjust,
      next_cursor: nextCursor ?? '',
    });
    return Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  }

  @Get('symbols')
  @Roles('viewer')
  @ApiOperation({ summary: 'Stored series: one item per symbol and timeframe with its bar count and range' })
  @ApiOkResponse({ schema: zodToOpenApi(SymbolsPageSchema) as never })
  async symbols(@ZodQuery(SymbolsQuerySchema) q: z.output<typeof SymbolsQuerySchema>): Promise<SymbolsPage> {
    let after: { symbol: string; timeframe: string } | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor, 'symbols', isSeriesKey);
      if (!after) throw invalidCursor();
    }
    const rows = await this.service.listSeries({ after, limit: q.limit + 1 });
    const items = rows.slice(0, q.limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > q.limit && last
          ? encodeCursor({ symbol: last.symbol, timeframe: last.timeframe }, 'symbols')
          : null,
    };
  }

  @Get('corrections')
  @Roles('viewer')
  @ApiOperation({
    summary: 'Audit records of corrected bars of one series (old and new values, ingestions, time), newest first',
  })
  @ApiOkResponse({ schema: zodToOpenApi(z.object({ items: z.array(BarCorrectionSchema) })) as never })
  async corrections(
    @ZodQuery(CorrectionsQuerySchema) q: z.output<typeof CorrectionsQuerySchema>,
  ): Promise<{ items: BarCorrection[] }> {
    return { items: await this.service.listCorrections(q) };
  }

  @Get('corporate-actions')
  @Roles('viewer')
  @ApiOperation({ summary: "A symbol's recorded splits and dividends, by ex-date" })
  @ApiOkResponse({ schema: zodToOpenApi(z.object({ items: z.array(CorporateActionSchema) })) as never })
  async listCorporateActions(
    @ZodQuery(z.object({ symbol: SymbolSchema })) q: { symbol: string },
  ): Promise<{ items: CorporateAction[] }> {
    return { items: await this.service.listCorporateActions(q.symbol) };
  }

  @Post('corporate-actions')
  @Roles('operator')
  @HttpCode(HttpStatus.OK)
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Record splits (incl. reverse splits) and cash dividends',
    description:
      'Idempotent by (symbol, kind, exDate): identical actions are no-ops, other values replace the stored action. Each symbol whose actions changed gets a marketdata.evt.corporate-actions.recorded.v1 event, which makes feature sets recompute that symbol.',
  })
  @ApiOkResponse({ schema: zodToOpenApi(RecordCorporateActionsResultSchema) as never })
  async recordCorporateActions(
    @ZodBody(RecordCorporateActionsBodySchema) body: RecordCorporateActionsBody,
    @Req() req: FastifyRequest,
  ): Promise<RecordCorporateActionsResult> {
    return this.service.recordCorporateActions(body.actions, { correlationId: String(req.id) });
  }
}

/** Sets `X-Next-Cursor` and an RFC 8288 `Link: <…>; rel="next"` header (nothing on the last page). */
export function setNextCursorHeaders(reply: FastifyReply, req: FastifyRequest, nextCursor: string | null): void {
  if (!nextCursor) return;
  const url = new URL(req.url, 'http://placeholder');
  url.searchParams.set('cursor', nextCursor);
  void reply.header('x-next-cursor', nextCursor).header('link', `<${url.pathname}${url.search}>; rel="next"`);
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));

/**
 * `new Date(ms).toISOString()` for integer epoch ms in years 0001–9999, about three times faster (civil-from-days
 * integer arithmetic, no Date object); anything else goes through Date.
 */
export function isoInstant(ms: number): string {
  if (!(ms >= -62135596800000 && ms <= 253402300799999) || ms !== Math.floor(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86_400_000);
  const rem = ms - days * 86_400_000;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const milli = rem % 1000;
  return `${y >= 1000 ? y : `000${y}`.slice(-4)}-${TWO_DIGITS[m]}-${TWO_DIGITS[d]}T${TWO_DIGITS[Math.floor(rem / 3_600_000)]}:${
    TWO_DIGITS[Math.floor(rem / 60_000) % 60]
  }:${TWO_DIGITS[Math.floor(rem / 1000) % 60]}.${milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : milli}Z`;
}

const FRACTION_PAD = ['', '0', '00', '000'];

/**
 * A number as JSON text, equal to `JSON.stringify(x)` (NaN and ±Infinity, never stored but not valid JSON, as null).
 * Prices and volumes mostly have at most four decimals: when `x` is exactly the double nearest to k / 10⁴ (|k| <
 * 10¹⁵), the decimal with k's digits is the shortest text that round-trips, so it is written from integers; about
 * 1.5 times faster than `String(x)`. Anything else goes through `String`.
 */
export function jsonNumber(x: number): string {
  const k = Math.round(x * 1e4);
  if (k / 1e4 === x && k < 1e15 && k > -1e15) {
    if (k % 10000 === 0) return `${k / 10000}`;
    const a = k < 0 ? -k : k;
    const whole = Math.floor(a / 10000);
    let frac = `${a - whole * 10000}`;
    frac = FRACTION_PAD[4 - frac.length] + frac;
    let end = 4;
    while (frac.charCodeAt(end - 1) === 48) end--;
    return `${k < 0 ? '-' : ''}${whole}.${frac.slice(0, end)}`;
  }
  return Number.isFinite(x) ? String(x) : 'null';
}
const num = jsonNumber;

/**
 * The JSON bars page ({@link BarsPageSchema}: `symbol`, `timeframe`, `adjust`, `items`, `nextCursor`), written straight
 * from the columns: the same text as `JSON.stringify` of the page object, without building 100 item objects first.
 */
export function barsPageJson(
  q: Pick<BarsQuery, 'symbol' | 'timeframe' | 'adjust'>,
  bars: BarColumns,
  n: number,
  nextCursor: string | null,
): string {
  const { ts, open, high, low, close, volume, adjClose } = bars;
  let out = `{"symbol":${JSON.stringify(q.symbol)},"timeframe":${JSON.stringify(q.timeframe)},"adjust":${JSON.stringify(q.adjust)},"items":[`;
  for (let i = 0; i < n; i++) {
    const adj = adjClose && adjClose[i] === adjClose[i] ? num(adjClose[i]) : 'null';
    out += `${i ? ',' : ''}{"ts":"${isoInstant(ts[i])}","open":${num(open[i])},"high":${num(high[i])},"low":${num(low[i])},"close":${num(close[i])},"volume":${num(volume[i])},"adjClose":${adj}}`;
  }
  return `${out}],"nextCursor":${nextCursor === null ? 'null' : JSON.stringify(nextCursor)}}`;
}
