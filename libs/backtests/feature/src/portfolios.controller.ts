import { Controller, Delete, Get, HttpCode, Patch, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import {
  CreatePortfolioBodySchema,
  ForecastBodySchema,
  PatchPortfolioBodySchema,
  PortfolioDtoSchema,
  PortfolioForecastDtoSchema,
  PortfolioPerformanceSchema,
  type CreatePortfolioBody,
  type ForecastBody,
  type PatchPortfolioBody,
  type PortfolioDto,
  type PortfolioForecastDto,
  type PortfolioPerformance,
} from '@strata/backtests-contracts';
import { MAX_PAGE_LIMIT, PageCursorSchema } from '@strata/platform-contracts';
import { ProblemException, problemType, Roles, ZodBody, ZodParam, ZodQuery, zodToOpenApi } from '@strata/platform-http';
import { z } from 'zod';
import { forecastProblem } from './backtest-forecast.controller';
import { PortfolioMembersError, PortfolioNotFoundError, PortfoliosService } from './portfolios.service';

const IdSchema = z.string().min(1).max(64);
const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(50),
  cursor: PageCursorSchema.optional(),
});

/** Portfolio failures as problem+json: 404, 422 (members missing or not completed; unusable returns for bands). */
function portfolioProblem(e: unknown): never {
  if (e instanceof PortfolioNotFoundError) throw ProblemException.notFound(e.message);
  if (e instanceof PortfolioMembersError)
    throw new ProblemException({
      type: problemType('portfolio-members-not-completed'),
      title: 'Member backtests not usable',
      status: 422,
      detail: e.message,
      members: e.members,
    });
  return forecastProblem(e);
}

const MEMBERS_422 = 'A member backtest is missing or not completed; `members` names which (application/problem+json).';

/**
 * `/portfolios`: named sets of completed backtests with weights and a rebalancing rule (operator writes, viewer
 * reads). `GET /portfolios/{id}` carries the KPIs of the combined daily curve; `POST /portfolios/{id}/forecast` its
 * KPI bands (the request of `POST /backtests/{id}/forecast`).
 */
@ApiTags('portfolios')
@Controller('portfolios')
export class PortfoliosController {
  constructor(private readonly portfolios: PortfoliosService) {}

  @Post()
  @Roles('operator')
  @ApiOperation({ summary: 'Create a portfolio of completed backtests' })
  @ApiCreatedResponse({ schema: zodToOpenApi(PortfolioDtoSchema) as never })
  @ApiUnprocessableEntityResponse({ description: MEMBERS_422 })
  create(
    @ZodBody(CreatePortfolioBodySchema) body: CreatePortfolioBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PortfolioDto> {
    return this.portfolios.create(body).then((p) => {
      void reply.status(201).header('location', `/portfolios/${p.id}`);
      return p;
    }, portfolioProblem);
  }

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'List portfolios, most recently updated first (cursor pagination)' })
  @ApiOkResponse({
    schema: zodToOpenApi(z.object({ items: z.array(PortfolioDtoSchema), nextCursor: z.string().nullable() })) as never,
  })
  list(
    @ZodQuery(PageQuerySchema) q: z.output<typeof PageQuerySchema>,
  ): Promise<{ items: PortfolioDto[]; nextCursor: string | null }> {
    return this.portfolios.list(q).catch(portfolioProblem);
  }

  @Get(':id')
  @Roles('viewer')
  @ApiOperation({
    summary: 'A portfolio with the KPIs of its combined daily curve',
    description:
      "Members are combined on the union of their days (a member without a bar that day holds cash), with the rebalancing rule; the KPIs are the backtests' own. Figures are cached and recomputed when a member was rerun or the portfolio changed (`recomputed: true`).",
  })
  @ApiOkResponse({ schema: zodToOpenApi(PortfolioDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such portfolio (application/problem+json).' })
  @ApiUnprocessableEntityResponse({ description: MEMBERS_422 })
  get(@ZodParam('id', IdSchema) id: string): Promise<PortfolioDto> {
    return this.portfolios.get(id).catch(portfolioProblem);
  }

  @Get(':id/performance')
  @Roles('viewer')
  @ApiOperation({ summary: 'The performance part of GET /portfolios/{id}' })
  @ApiOkResponse({ schema: zodToOpenApi(PortfolioPerformanceSchema) as never })
  @ApiNotFoundResponse({ description: 'No such portfolio (application/problem+json).' })
  @ApiUnprocessableEntityResponse({ description: MEMBERS_422 })
  performance(@ZodParam('id', IdSchema) id: string): Promise<PortfolioPerformance> {
    return this.portfolios.get(id).then((p) => p.performance!, portfolioProblem);
  }

  @Put(':id')
  @Roles('operator')
  @ApiOperation({ summary: 'Replace a portfolio' })
  @ApiOkResponse({ schema: zodToOpenApi(PortfolioDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such portfolio (application/problem+json).' })
  @ApiUnprocessableEntityResponse({ description: MEMBERS_422 })
  replace(
    @ZodParam('id', IdSchema) id: string,
    @ZodBody(CreatePortfolioBodySchema) body: CreatePortfolioBody,
  ): Promise<PortfolioDto> {
    return this.portfolios.update(id, body).catch(portfolioProblem);
  }

  @Patch(':id')
  @Roles('operator')
  @ApiOperation({ summary: 'Change some fields of a portfolio' })
  @ApiOkResponse({ schema: zodToOpenApi(PortfolioDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such portfolio (application/problem+json).' })
  @ApiUnprocessableEntityResponse({ description: MEMBERS_422 })
  patch(
    @ZodParam('id', IdSchema) id: string,
    @ZodBody(PatchPortfolioBodySchema) body: PatchPortfolioBody,
  ): Promise<PortfolioDto> {
    return this.portfolios.update(id, body).catch(portfolioProblem);
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a portfolio (its member backtests stay)' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ description: 'No such portfolio (application/problem+json).' })
  async delete(@ZodParam('id', IdSchema) id: string): Promise<void> {
    await this.portfolios.delete(id).catch(portfolioProblem);
  }

  @Post(':id/forecast')
  @HttpCode(200)
  @Roles('viewer')
  @ApiOperation({
    summary: 'Probabilistic KPIs of the portfolio: the bands of POST /backtests/{id}/forecast on its combined returns',
  })
  @ApiOkResponse({ schema: zodToOpenApi(PortfolioForecastDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such portfolio (application/problem+json).' })
  @ApiUnprocessableEntityResponse({ description: `${MEMBERS_422} Or unusable returns: \`reason\` names why.` })
  forecast(
    @ZodParam('id', IdSchema) id: string,
    @ZodBody(ForecastBodySchema) body: ForecastBody,
  ): Promise<PortfolioForecastDto> {
    return this.portfolios.forecast(id, body).catch(portfolioProblem);
  }
}
