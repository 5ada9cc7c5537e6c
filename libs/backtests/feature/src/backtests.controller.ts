import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import {
  BacktestEquityPointDtoSchema,
  BacktestOrderDtoSchema,
  BacktestRunDtoSchema,
  BacktestSeriesQuerySchema,
  BacktestStatusSchema,
  BacktestTradeDtoSchema,
  CreateBacktestBodySchema,
  type BacktestRunDto,
  type BacktestSeriesQuery,
  type CreateBacktestBody,
} from '@strata/backtests-contracts';
import { DocumentStoreError, MAX_PAGE_LIMIT, PageCursorSchema } from '@strata/platform-contracts';
import { strategyProblem } from './strategy-problems';
import {
  invalidCursor,
  ProblemException,
  problemType,
  Roles,
  ZodBody,
  ZodQuery,
  zodToOpenApi,
} from '@strata/platform-http';
import { z } from 'zod';
import {
  BacktestCursorError,
  BacktestNotCompletedError,
  BacktestNotFoundError,
  BacktestsService,
} from './backtests.service';

const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(50),
  cursor: PageCursorSchema.optional(),
  status: BacktestStatusSchema.optional(),
  strategyId: z.string().min(1).max(64).optional(),
});

const pageOf = (item: z.ZodType) =>
  zodToOpenApi(z.object({ items: z.array(item), nextCursor: z.string().nullable() })) as never;

function problem(e: unknown): never {
  if (e instanceof BacktestNotFoundError) throw ProblemException.notFound(e.message);
  if (e instanceof BacktestNotCompletedError)
    throw new ProblemException({
      type: problemType('backtest-not-completed'),
      status: 409,
      detail: e.message,
      backtestStatus: e.status,
    });
  if (e instanceof BacktestCursorError) throw invalidCursor(e.message);
  if (e instanceof DocumentStoreError && e.httpStatus < 500)
    throw new ProblemException({
      type: problemType(e.code.replace(/_/g, '-')),
      status: e.httpStatus,
      detail: e.message,
    });
  throw strategyProblem(e);
}

/**
 * `/backtests`: `POST` queues a run (202 + id; the run is `backtest.cmd.run.v1`, handled by a worker); `GET` reads the
 * run with its versioned result (`resultSchemaVersion` 1) and, once completed, its paginated equity curve, trades
 * and orders.
 */
@ApiTags('backtests')
@Controller('backtests')
export class BacktestsController {
  constructor(private readonly backtests: BacktestsService) {}

  @Post()
  @Roles('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue a backtest of a saved strategy (version) or an inline definition',
    description:
      'Answers 202 with the run (status queued) and its id at once; follow it at GET /backtests/{id} or on backtest.evt.run.progressed.v1 / completed / failed. Decisions at the close of bar t fill at the open (or close) of t+1; costs per `execution`.',
  })
  @ApiAcceptedResponse({ schema: zodToOpenApi(BacktestRunDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such strategy or version (application/problem+json).' })
  @ApiUnprocessableEntityResponse({
    description: 'The definition or parameter overrides are invalid (look-ahead, unknown feature or parameter).',
  })
  submit(
    @ZodBody(CreateBacktestBodySchema) body: CreateBacktestBody,
    @Req() req: { id?: unknown },
  ): Promise<BacktestRunDto> {
    return this.backtests
      .submit(body, { correlationId: typeof req.id === 'string' ? req.id : undefined })
      .catch((e: unknown) => {
        throw strategyProblem(e, body.definition ? 'body.definition' : 'body');
      });
  }

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'Backtests, newest first (cursor pagination)' })
  @ApiOkResponse({ schema: pageOf(BacktestRunDtoSchema) })
  list(
    @ZodQuery(ListQuerySchema) q: z.output<typeof ListQuerySchema>,
  ): Promise<{ items: BacktestRunDto[]; nextCursor: string | null }> {
    return this.backtests.list(q).catch(problem);
  }

  @Get(':id')
  @Roles('viewer')
  @ApiOperation({
    summary:
      'A backtest: status, progress, frozen spec and, once completed, the result (KPIs, costs, look-ahead check)',
  })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(BacktestRunDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such backtest (application/problem+json).' })
  get(@Param('id') id: string): Promise<BacktestRunDto> {
    return this.backtests.get(id).catch(problem);
  }

  @Get(':id/equity')
  @Roles('viewer')
  @ApiOperation({ summary: 'Equity curve of a completed backtest (one point per bar close), paginated' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: pageOf(BacktestEquityPointDtoSchema) })
  @ApiNotFoundResponse({ description: 'No such backtest (application/problem+json).' })
  @ApiConflictResponse({ description: 'The backtest has not completed (application/problem+json).' })
  equity(@Param('id') id: string, @ZodQuery(BacktestSeriesQuerySchema) q: BacktestSeriesQuery) {
    return this.backtests.equity(id, q).catch(problem);
  }

  @Get(':id/trades')
  @Roles('viewer')
  @ApiOperation({ summary: 'Closed trades (round trips) of a completed backtest, paginated' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: pageOf(BacktestTradeDtoSchema) })
  @ApiNotFoundResponse({ description: 'No such backtest (application/problem+json).' })
  @ApiConflictResponse({ description: 'The backtest has not completed (application/problem+json).' })
  trades(@Param('id') id: string, @ZodQuery(BacktestSeriesQuerySchema) q: BacktestSeriesQuery) {
    return this.backtests.trades(id, q).catch(problem);
  }

  @Get(':id/orders')
  @Roles('viewer')
  @ApiOperation({
    summary: 'Orders of a completed backtest with their fills, unfilled remainders and reasons, paginated',
  })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: pageOf(BacktestOrderDtoSchema) })
  @ApiNotFoundResponse({ description: 'No such backtest (application/problem+json).' })
  @ApiConflictResponse({ description: 'The backtest has not completed (application/problem+json).' })
  orders(@Param('id') id: string, @ZodQuery(BacktestSeriesQuerySchema) q: BacktestSeriesQuery) {
    return this.backtests.orders(id, q).catch(problem);
  }
}
