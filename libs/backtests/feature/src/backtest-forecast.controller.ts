import { Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { FastifyReply } from 'fastify';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import {
  ForecastBodySchema,
  ForecastDtoSchema,
  ForecastJobDtoSchema,
  ForecastKpiBandsCommandV1,
  type ForecastBody,
  type ForecastDto,
  type ForecastJobDto,
} from '@strata/backtests-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { OnCommand } from '@strata/platform-messaging';
import { KpiBandsError } from '@strata/backtests-domain';
import { ProblemException, problemType, Roles, ZodBody, ZodParam, zodToOpenApi } from '@strata/platform-http';
import { z } from 'zod';
import { BacktestForecastService, FORECAST_SYNC_LIMIT, ForecastJobNotFoundError } from './backtest-forecast.service';
import { BacktestNotCompletedError, BacktestNotFoundError } from './backtests.service';

const BacktestIdSchema = z.string().min(1).max(64);

/** Maps forecast failures to problem+json: 404, 409 (not completed), 422 naming the reason of unusable returns. */
export function forecastProblem(e: unknown): never {
  if (e instanceof BacktestNotFoundError || e instanceof ForecastJobNotFoundError)
    throw ProblemException.notFound(e.message);
  if (e instanceof BacktestNotCompletedError)
    throw new ProblemException({
      type: problemType('backtest-not-completed'),
      status: 409,
      detail: e.message,
      backtestStatus: e.status,
    });
  if (e instanceof KpiBandsError)
    throw new ProblemException({
      type: problemType(`kpi-bands-${e.reason.replace(/_/g, '-')}`),
      title: 'Returns unusable for KPI bands',
      status: 422,
      detail: e.message,
      reason: e.reason,
    });
  throw e;
}

/** `POST /backtests/{id}/forecast`: percentile bands of equity, drawdown and Sharpe over a forward horizon. */
@ApiTags('backtests')
@Controller('backtests')
export class BacktestForecastController {
  constructor(private readonly forecasts: BacktestForecastService) {}

  @Post(':id/forecast')
  @HttpCode(200)
  @Roles('viewer')
  @ApiOperation({
    summary: 'Probabilistic KPIs of a completed backtest: P5…P95 of final equity, max drawdown and Sharpe',
    description:
      'Simulates the daily equity returns forward (filtered historical simulation by default; stationary block bootstrap; GARCH(1,1)-t Monte Carlo), the mean shrunk toward zero unless asked otherwise. The bands are stored with the backtest, keyed by their inputs: an identical request answers from the store (cached: true).',
  })
  @ApiOkResponse({ schema: zodToOpenApi(ForecastDtoSchema) as never })
  @ApiAcceptedResponse({
    description: `paths × horizon above ${FORECAST_SYNC_LIMIT}: the queued job (follow it at GET /backtests/{id}/forecast/jobs/{jobId} or on backtest.evt.forecast.progressed.v1 / finished).`,
    schema: zodToOpenApi(ForecastJobDtoSchema) as never,
  })
  @ApiNotFoundResponse({ description: 'No such backtest (application/problem+json).' })
  @ApiConflictResponse({ description: 'The backtest has not completed (application/problem+json).' })
  @ApiUnprocessableEntityResponse({
    description:
      'Flat, too short, non-finite or degenerate equity returns; `reason` names which (application/problem+json).',
  })
  forecast(
    @ZodParam('id', BacktestIdSchema) id: string,
    @ZodBody(ForecastBodySchema) body: ForecastBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ForecastDto | ForecastJobDto> {
    return this.forecasts.request(id, body).then((r) => {
      if ('bands' in r) return r.bands;
      void reply.status(202).header('location', `/backtests/${id}/forecast/jobs/${r.job.id}`);
      return r.job;
    }, forecastProblem);
  }

  @Get(':id/forecast/jobs/:jobId')
  @Roles('viewer')
  @ApiOperation({ summary: 'A forecast job: status, progress and, once completed, the bands' })
  @ApiOkResponse({ schema: zodToOpenApi(ForecastJobDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such backtest or job (application/problem+json).' })
  job(
    @ZodParam('id', BacktestIdSchema) id: string,
    @ZodParam('jobId', BacktestIdSchema) jobId: string,
  ): Promise<ForecastJobDto> {
    return this.forecasts.job(id, jobId).catch(forecastProblem);
  }
}

/** Runs forecast jobs from the `backtest.cmd.forecast.v1` queue (worker processes). */
@Controller()
export class BacktestForecastJobController {
  constructor(private readonly forecasts: BacktestForecastService) {}

  /** One delivery of the command (resolves = ack, rejects = redeliver later). */
  @OnCommand(ForecastKpiBandsCommandV1)
  run(@Payload() cmd: PayloadOf<typeof ForecastKpiBandsCommandV1>): Promise<void> {
    return this.forecasts.runJob(cmd);
  }
}
