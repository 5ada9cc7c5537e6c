import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MarketDataNotFoundError } from '@strata/marketdata-contracts';
import { DocumentStoreError } from '@strata/platform-contracts';
import { ProblemException, problemType, Roles, ZodBody, ZodQuery, zodToOpenApi } from '@strata/platform-http';
import {
  RegimeCurrentDtoSchema,
  RegimeHistoryPageSchema,
  RegimeHistoryQuerySchema,
  RegimeModelDtoSchema,
  RegimeQuerySchema,
  RegimeRefitBodySchema,
  type RegimeCurrentDto,
  type RegimeHistoryPage,
  type RegimeHistoryQuery,
  type RegimeModelDto,
  type RegimeQuery,
  type RegimeRefitBody,
} from '@strata/regime-contracts';
import { RegimeNotFoundError, RegimeService } from './regime.service';

/** Maps the regime service's errors to problem+json. */
export function regimeProblem(e: unknown): never {
  if (e instanceof RegimeNotFoundError || e instanceof MarketDataNotFoundError)
    throw ProblemException.notFound(e.message);
  if (e instanceof DocumentStoreError && e.httpStatus < 500)
    throw new ProblemException({
      type: problemType(e.code.replace(/_/g, '-')),
      status: e.httpStatus,
      detail: e.message,
    });
  throw e;
}

/**
 * `/market-data/regime`: the current filtered regime of a series from the regime cache (with its as-of bar and
 * whether it lags the series), its as-of history (cursor-paginated) and operator refits (202 + model version).
 */
@ApiTags('regime')
@Controller('market-data/regime')
export class RegimeController {
  constructor(private readonly regime: RegimeService) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({
    summary: 'Current regime of a series (filtered: bars up to its as-of bar only), from the regime cache',
    description:
      "The latest cached record: label (a state name), probabilities by state, since when the label has held, transition matrix, each state's annualised mean and volatility, the model version and its last fitted bar; `latestBar` is the newest bar the service was told about and `stale` says the record lags it.",
  })
  @ApiOkResponse({ schema: zodToOpenApi(RegimeCurrentDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No regime for the series yet (application/problem+json).' })
  current(@ZodQuery(RegimeQuerySchema) q: RegimeQuery): Promise<RegimeCurrentDto> {
    return this.regime.current(q.symbol, q.timeframe).catch(regimeProblem);
  }

  @Get('history')
  @Roles('viewer')
  @ApiOperation({
    summary: 'Filtered regime history of a series (as of each bar, never rewritten), ascending, cursor-paginated',
    description: '`from`/`to` bound the as-of bar (inclusive). Each record uses bars up to its own as-of bar only.',
  })
  @ApiOkResponse({ schema: zodToOpenApi(RegimeHistoryPageSchema) as never })
  history(@ZodQuery(RegimeHistoryQuerySchema) q: RegimeHistoryQuery): Promise<RegimeHistoryPage> {
    return this.regime.history(q).catch(regimeProblem);
  }

  @Post('models')
  @Roles('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Refit the regime model of a series (queued): a new model version',
    description:
      'Answers 202 with the model version (status queued); `regime.cmd.refit.v1` fits it on the stored bars (2 or 3 states by BIC, states matched by name to the previous version) and the series moves onto it.',
  })
  @ApiAcceptedResponse({ schema: zodToOpenApi(RegimeModelDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No bars of the series (application/problem+json).' })
  refit(@ZodBody(RegimeRefitBodySchema) body: RegimeRefitBody): Promise<RegimeModelDto> {
    return this.regime.requestRefit(body.symbol, body.timeframe).catch(regimeProblem);
  }
}
