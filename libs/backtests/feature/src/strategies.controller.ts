import { Controller, Delete, Get, Header, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import {
  CreateStrategyBodySchema,
  CreateStrategyFromTemplateBodySchema,
  StrategyDtoSchema,
  StrategyTemplateDtoSchema,
  StrategyVersionDtoSchema,
  UpdateStrategyBodySchema,
  type CreateStrategyBody,
  type CreateStrategyFromTemplateBody,
  type StrategyDto,
  type StrategyTemplateDto,
  type StrategyVersionDto,
  type UpdateStrategyBody,
} from '@strata/backtests-contracts';
import { MAX_PAGE_LIMIT, PageCursorSchema } from '@strata/platform-contracts';
import { Roles, ZodBody, ZodParam, ZodQuery, zodToOpenApi } from '@strata/platform-http';
import { z } from 'zod';
import { StrategiesService } from './strategies.service';
import { strategyProblem } from './strategy-problems';

const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(50),
  cursor: PageCursorSchema.optional(),
});
const VersionParamSchema = z.coerce.number().int().positive();
const rethrow =
  (prefix?: string) =>
  (e: unknown): never => {
    throw strategyProblem(e, prefix);
  };
const INVALID =
  'The definition references a future value (`ref` with bars < 0), an unknown feature, signal, regime or parameter (application/problem+json, one item per issue with its path and reason).';

/**
 * `/strategies`: strategy definitions with immutable versions (viewer reads, operator writes). Every `PUT` appends a
 * version; `GET /strategies/{id}/versions/{v}` returns any of them. Definitions follow `StrategyDefinitionV1` (see the
 * schema components) and are refused with 422 when they would look ahead or reference something unknown.
 */
@ApiTags('strategies')
@Controller('strategies')
export class StrategiesController {
  /** The templates page as JSON text: the templates ship with the code, so it is written once. */
  private templatesJson: string | undefined;

  constructor(private readonly strategies: StrategiesService) {}

  @Get('templates')
  @Roles('viewer')
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOperation({ summary: 'Strategy templates shipped with the platform' })
  @ApiOkResponse({ schema: zodToOpenApi(z.object({ items: z.array(StrategyTemplateDtoSchema) })) as never })
  templates(): string {
    const page = (): { items: StrategyTemplateDto[] } => ({ items: this.strategies.templates() });
    return (this.templatesJson ??= JSON.stringify(page()));
  }

  @Post('from-template')
  @Roles('operator')
  @ApiOperation({ summary: 'Create a strategy from a template (symbols and parameters may be replaced)' })
  @ApiCreatedResponse({ schema: zodToOpenApi(StrategyDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such template (application/problem+json).' })
  @ApiUnprocessableEntityResponse({ description: INVALID })
  fromTemplate(
    @ZodBody(CreateStrategyFromTemplateBodySchema) body: CreateStrategyFromTemplateBody,
  ): Promise<StrategyDto> {
    return this.strategies.createFromTemplate(body).catch(rethrow('body'));
  }

  @Post()
  @Roles('operator')
  @ApiOperation({ summary: 'Create a strategy (version 1)' })
  @ApiCreatedResponse({ schema: zodToOpenApi(StrategyDtoSchema) as never })
  @ApiUnprocessableEntityResponse({ description: INVALID })
  create(@ZodBody(CreateStrategyBodySchema) body: CreateStrategyBody): Promise<StrategyDto> {
    return this.strategies.create(body).catch(rethrow());
  }

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'List strategies, most recently updated first (cursor pagination)' })
  @ApiOkResponse({
    schema: zodToOpenApi(z.object({ items: z.array(StrategyDtoSchema), nextCursor: z.string().nullable() })) as never,
  })
  list(
    @ZodQuery(PageQuerySchema) q: z.output<typeof PageQuerySchema>,
  ): Promise<{ items: StrategyDto[]; nextCursor: string | null }> {
    return this.strategies.list(q).catch(rethrow());
  }

  @Get(':id')
  @Roles('viewer')
  @ApiOperation({ summary: 'A strategy with its latest version' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(StrategyDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such strategy (application/problem+json).' })
  get(@Param('id') id: string): Promise<StrategyDto> {
    return this.strategies.get(id).catch(rethrow());
  }

  @Put(':id')
  @Roles('operator')
  @ApiOperation({
    summary: 'Save a new version of a strategy',
    description:
      'Appends a version; earlier versions stay readable. With `baseVersion`, answers 409 when another version was saved since.',
  })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(StrategyDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such strategy (application/problem+json).' })
  @ApiConflictResponse({
    description: 'baseVersion is not the latest version (application/problem+json with latestVersion).',
  })
  @ApiUnprocessableEntityResponse({ description: INVALID })
  update(@Param('id') id: string, @ZodBody(UpdateStrategyBodySchema) body: UpdateStrategyBody): Promise<StrategyDto> {
    return this.strategies.update(id, body).catch(rethrow());
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a strategy and its versions (backtests keep their frozen copy)' })
  @ApiParam({ name: 'id' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ description: 'No such strategy (application/problem+json).' })
  async delete(@Param('id') id: string): Promise<void> {
    await this.strategies.delete(id).catch(rethrow());
  }

  @Get(':id/versions')
  @Roles('viewer')
  @ApiOperation({ summary: "A strategy's versions, newest first (cursor pagination)" })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({
    schema: zodToOpenApi(
      z.object({ items: z.array(StrategyVersionDtoSchema), nextCursor: z.string().nullable() }),
    ) as never,
  })
  versions(
    @Param('id') id: string,
    @ZodQuery(PageQuerySchema) q: z.output<typeof PageQuerySchema>,
  ): Promise<{ items: StrategyVersionDto[]; nextCursor: string | null }> {
    return this.strategies.listVersions(id, q).catch(rethrow());
  }

  @Get(':id/versions/:version')
  @Roles('viewer')
  @ApiOperation({ summary: 'One version of a strategy' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(StrategyVersionDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such strategy or version (application/problem+json).' })
  version(
    @Param('id') id: string,
    @ZodParam('version', VersionParamSchema) version: number,
  ): Promise<StrategyVersionDto> {
    return this.strategies.getVersion(id, version).catch(rethrow());
  }
}
