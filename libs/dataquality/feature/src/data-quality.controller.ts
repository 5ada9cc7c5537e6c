import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  DataQualityEventDtoSchema,
  DataQualityEventsPageSchema,
  DataQualityEventsQuerySchema,
  DataQualitySummaryQuerySchema,
  DataQualitySummarySchema,
  DataQualityTransitionBodySchema,
  type DataQualityEventDto,
  type DataQualityEventsQuery,
  type DataQualitySummary,
  type DataQualitySummaryQuery,
  type DataQualityTransitionBody,
} from '@strata/dataquality-contracts';
import { DocumentStoreError } from '@strata/platform-contracts';
import {
  ProblemException,
  problemType,
  Roles,
  ZodBody,
  ZodQuery,
  zodToOpenApi,
  type AuthenticatedRequest,
} from '@strata/platform-http';
import {
  DataQualityEventNotFoundError,
  DataQualityService,
  IllegalTransitionError,
  type TransitionActor,
} from './data-quality.service';

/** Maps the service's errors to problem+json. */
export function dataQualityProblem(e: unknown): never {
  if (e instanceof DataQualityEventNotFoundError) throw ProblemException.notFound(e.message);
  if (e instanceof IllegalTransitionError) {
    throw new ProblemException({
      type: problemType('illegal-transition'),
      status: 409,
      detail: e.message,
      eventStatus: e.from,
      action: e.action,
    });
  }
  if (e instanceof DocumentStoreError && e.httpStatus < 500)
    throw new ProblemException({
      type: problemType(e.code.replace(/_/g, '-')),
      status: e.httpStatus,
      detail: e.message,
    });
  throw e;
}

/** The transition body is optional: an empty POST is a transition without a note. */
const TransitionBodySchema = DataQualityTransitionBodySchema.optional();

function actorOf(req: AuthenticatedRequest): TransitionActor {
  return { keyId: req.principal?.keyId ?? 'unknown', role: req.principal?.role ?? 'unknown' };
}

/**
 * `/data-quality/events`: the sentinel's DataQualityEvents (filtered, newest bar first, cursor-paginated), one
 * event, and its lifecycle: `ack` (operator) and `resolve` (operator). Illegal transitions answer 409.
 */
@ApiTags('data-quality')
@Controller('data-quality/events')
export class DataQualityController {
  constructor(private readonly dq: DataQualityService) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({
    summary:
      'DataQualityEvents, newest bar first (filters: symbol, timeframe, severity, minSeverity, status, kind, bar time from/to)',
    description:
      '`from`/`to` bound the bar time (inclusive). Each event records every detector score, the combined score, the severity, the reason, the model versions and its status history.',
  })
  @ApiOkResponse({ schema: zodToOpenApi(DataQualityEventsPageSchema) as never })
  list(
    @ZodQuery(DataQualityEventsQuerySchema) q: DataQualityEventsQuery,
  ): Promise<{ items: DataQualityEventDto[]; nextCursor: string | null }> {
    return this.dq.list(q).catch(dataQualityProblem);
  }

  @Get(':id')
  @Roles('viewer')
  @ApiOperation({ summary: 'One DataQualityEvent' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(DataQualityEventDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such event (application/problem+json).' })
  get(@Param('id') id: string): Promise<DataQualityEventDto> {
    return this.dq.get(id).catch(dataQualityProblem);
  }

  @Post(':id/ack')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge an open event (records who and when, with an optional note)' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(DataQualityEventDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such event (application/problem+json).' })
  @ApiConflictResponse({
    description: 'The event is not open (already acknowledged or resolved), application/problem+json.',
  })
  ack(
    @Param('id') id: string,
    @ZodBody(TransitionBodySchema) body: DataQualityTransitionBody | undefined,
    @Req() req: AuthenticatedRequest,
  ): Promise<DataQualityEventDto> {
    return this.dq.acknowledge(id, actorOf(req), body?.note).catch(dataQualityProblem);
  }

  @Post(':id/resolve')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resolve an open or acknowledged event (operator; records who and when, with an optional note)',
  })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ schema: zodToOpenApi(DataQualityEventDtoSchema) as never })
  @ApiNotFoundResponse({ description: 'No such event (application/problem+json).' })
  @ApiConflictResponse({ description: 'The event is already resolved (application/problem+json).' })
  resolve(
    @Param('id') id: string,
    @ZodBody(TransitionBodySchema) body: DataQualityTransitionBody | undefined,
    @Req() req: AuthenticatedRequest,
  ): Promise<DataQualityEventDto> {
    return this.dq.resolve(id, actorOf(req), body?.note).catch(dataQualityProblem);
  }
}

/** `GET /dashboard/data-quality`: the DataQualitySummary panel. */
@ApiTags('dashboard')
@Controller('dashboard')
export class DataQualityDashboardController {
  constructor(private readonly dq: DataQualityService) {}

  @Get('data-quality')
  @Roles('viewer')
  @ApiOperation({
    summary:
      'DataQualitySummary: recent alerts, severity distribution, counts per symbol / kind / detector, open vs acknowledged vs resolved, mean time to acknowledge',
    description: 'Over events DETECTED in [from, to] (default: the 7 days up to now).',
  })
  @ApiOkResponse({ schema: zodToOpenApi(DataQualitySummarySchema) as never })
  summary(@ZodQuery(DataQualitySummaryQuerySchema) q: DataQualitySummaryQuery): Promise<DataQualitySummary> {
    return this.dq.summary(q).catch(dataQualityProblem);
  }
}
