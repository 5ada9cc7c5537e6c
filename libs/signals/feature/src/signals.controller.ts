import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { DocumentStoreError } from '@strata/platform-contracts';
import {
  ImportModelBodySchema,
  LatestScoreDtoSchema,
  ListModelsQuerySchema,
  ModelAliasDtoSchema,
  ModelAliasSchema,
  ModelVersionDtoSchema,
  ScoreBodySchema,
  ScoreResponseSchema,
  TrainModelBodySchema,
  type ImportModelBody,
  type LatestScoreDto,
  type ListModelsQuery,
  type ModelAlias,
  type ModelAliasDto,
  type ModelVersionDto,
  type ScoreBody,
  type ScoreResponse,
  type TrainModelBody,
} from '@strata/signals-contracts';
import { SymbolSchema, TimeframeSchema } from '@strata/marketdata-contracts';
import { ProblemException, problemType, Roles, ZodBody, ZodParam, ZodQuery, zodToOpenApi } from '@strata/platform-http';
import { z } from 'zod';
import { NothingToRollBackError } from './signal-aliases.repository';
import {
  AliasUnsetError,
  ExplanationUnavailableError,
  ModelNotFoundError,
  ModelNotReadyError,
  ModelRejectedError,
  ScoreInputError,
  SignalDataNotFoundError,
} from './signals.errors';
import { SignalsService } from './signals.service';

const LatestQuerySchema = z.object({ timeframe: TimeframeSchema.default('1d') });
const pageOf = (item: z.ZodType) =>
  zodToOpenApi(z.object({ items: z.array(item), nextCursor: z.string().nullable() })) as never;

/** Maps signals errors to problem+json. */
export function signalsProblem(e: unknown): never {
  if (e instanceof ProblemException) throw e;
  if (e instanceof ModelNotFoundError || e instanceof SignalDataNotFoundError)
    throw ProblemException.notFound(e.message);
  if (e instanceof AliasUnsetError)
    throw new ProblemException({ type: problemType('alias-unset'), status: 404, detail: e.message, alias: e.alias });
  if (e instanceof ModelNotReadyError)
    throw new ProblemException({
      type: problemType('model-not-ready'),
      status: 409,
      detail: e.message,
      modelStatus: e.status,
    });
  if (e instanceof NothingToRollBackError)
    throw new ProblemException({
      type: problemType('nothing-to-roll-back'),
      status: 409,
      detail: e.message,
      alias: e.alias,
    });
  if (e instanceof ModelRejectedError)
    throw new ProblemException({
      type: problemType('model-rejected'),
      status: 422,
      detail: e.message,
      errors: e.problems.map((p) => ({ field: p.field, reason: 'model_rejected', message: p.reason })),
    });
  if (e instanceof ScoreInputError)
    throw ProblemException.validation(
      'the rows do not match the model’s features',
      e.problems.map((p) => ({ field: `body.${p.field}`, reason: p.reason, message: p.message })),
    );
  if (e instanceof ExplanationUnavailableError)
    throw new ProblemException({ type: problemType('explanation-unavailable'), status: 422, detail: e.message });
  if (e instanceof DocumentStoreError && e.httpStatus < 500)
    throw new ProblemException({
      type: problemType(e.code.replace(/_/g, '-')),
      status: e.httpStatus,
      detail: e.message,
    });
  throw e;
}

const requestId = (req: { id?: unknown }): string | undefined => (typeof req.id === 'string' ? req.id : undefined);

/**
 * `/signals`: ML signals. Training is queued (202; `signals.cmd.train.v1` runs on a worker); model versions, aliases
 * (promote / rollback), scoring (raw rows or a stored feature series, optionally with TreeSHAP explanations) and the
 * latest stored champion score of a series.
 */
@ApiTags('signals')
@Controller('signals')
export class SignalsController {
  constructor(private readonly signals: SignalsService) {}

  @Post('models')
  @Roles('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Train a model version from a spec (queued)',
    description:
      'Answers 202 with the model (status queued), its id and statusUrl; a worker builds the dataset from the feature store, evaluates walk-forward (with the leakage guard), trains the final model, exports ONNX and registers it. Follow GET statusUrl (queued → running → completed | failed with a reason) or signals.evt.model.trained.v1.',
  })
  @ApiAcceptedResponse({ schema: zodToOpenApi(ModelVersionDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such feature set or version (application/problem+json).' })
  train(@ZodBody(TrainModelBodySchema) body: TrainModelBody, @Req() req: { id?: unknown }): Promise<ModelVersionDto> {
    return this.signals.train(body, { correlationId: requestId(req) }).catch(signalsProblem);
  }

  @Post('models/import')
  @Roles('operator')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Register an external ONNX tree model (e.g. LightGBM via onnxmltools) after checking its input schema against a feature-set version',
  })
  @ApiCreatedResponse({ schema: zodToOpenApi(ModelVersionDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such feature set or version (application/problem+json).' })
  @ApiUnprocessableEntityResponse({
    description: 'The model does not fit the feature set: every problem with its field (application/problem+json).',
  })
  importModel(@ZodBody(ImportModelBodySchema) body: ImportModelBody): Promise<ModelVersionDto> {
    return this.signals.importModel(body).catch(signalsProblem);
  }

  @Get('models')
  @Roles('viewer')
  @ApiOperation({ summary: 'Model versions, newest first (cursor pagination); filter by status or alias' })
  @ApiOkResponse({ schema: pageOf(ModelVersionDtoSchema) })
  list(
    @ZodQuery(ListModelsQuerySchema) q: ListModelsQuery,
  ): Promise<{ items: ModelVersionDto[]; nextCursor: string | null }> {
    return this.signals.list(q).catch(signalsProblem);
  }

  @Get('models/:id')
  @Roles('viewer')
  @ApiOperation({
    summary:
      'A model version: status, params, walk-forward metrics per fold with baselines, artifact, lineage, aliases',
  })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(ModelVersionDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such model (application/problem+json).' })
  get(@Param('id') id: string): Promise<ModelVersionDto> {
    return this.signals.get(id).catch(signalsProblem);
  }

  @Post('models/:id/aliases/:alias')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Promote: point an alias (champion | challenger) at a completed model version' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(ModelAliasDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such model (application/problem+json).' })
  @ApiConflictResponse({ description: 'The model has not completed (application/problem+json).' })
  promote(
    @Param('id') id: string,
    @ZodParam('alias', ModelAliasSchema) alias: ModelAlias,
    @Req() req: { id?: unknown },
  ): Promise<ModelAliasDto> {
    return this.signals.promote(id, alias, { correlationId: requestId(req) }).catch(signalsProblem);
  }

  @Get('aliases/:alias')
  @Roles('viewer')
  @ApiOperation({ summary: 'An alias: the model it points at and its history of promotes and rollbacks' })
  @ApiOkResponse({ schema: zodToOpenApi(ModelAliasDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'The alias points at no model yet (application/problem+json).' })
  alias(@ZodParam('alias', ModelAliasSchema) alias: ModelAlias): Promise<ModelAliasDto> {
    return this.signals.alias(alias).catch(signalsProblem);
  }

  @Post('aliases/:alias/rollback')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rollback: point the alias back at its previous holder' })
  @ApiOkResponse({ schema: zodToOpenApi(ModelAliasDtoSchema) as never })
  @ApiConflictResponse({ description: 'The alias has no previous holder (application/problem+json).' })
  rollback(
    @ZodParam('alias', ModelAliasSchema) alias: ModelAlias,
    @Req() req: { id?: unknown },
  ): Promise<ModelAliasDto> {
    return this.signals.rollback(alias, { correlationId: requestId(req) }).catch(signalsProblem);
  }

  @Post('score')
  @Roles('viewer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Score with a model version or alias: raw feature rows, or a stored feature series over [from, to]',
    description:
      'Binary models give P(forward return > dead zone), regression models the predicted return. Series bars with a missing feature (warm-up) score null. `explain: true` adds exact TreeSHAP contributions per row (raw margin units; they sum to margin − expectedValue) and global importance (gain, mean |SHAP|).',
  })
  @ApiOkResponse({ schema: zodToOpenApi(ScoreResponseSchema) as never })
  @ApiNotFoundResponse({ description: 'No such model, alias holder or stored features (application/problem+json).' })
  @ApiConflictResponse({ description: 'The model has not completed (application/problem+json).' })
  score(@ZodBody(ScoreBodySchema) body: ScoreBody): Promise<ScoreResponse> {
    return this.signals.score(body).catch(signalsProblem);
  }

  @Get(':symbol/latest')
  @Roles('viewer')
  @ApiOperation({
    summary: 'The latest stored score of the champion for a series (written when the feature set refreshes)',
  })
  @ApiOkResponse({ schema: zodToOpenApi(LatestScoreDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No champion, or no stored score for the series (application/problem+json).' })
  latest(
    @ZodParam('symbol', SymbolSchema) symbol: string,
    @ZodQuery(LatestQuerySchema) q: z.output<typeof LatestQuerySchema>,
  ): Promise<LatestScoreDto> {
    return this.signals.latest(symbol, q.timeframe).catch(signalsProblem);
  }
}
