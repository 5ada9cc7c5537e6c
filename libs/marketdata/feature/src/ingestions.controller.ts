import { Controller, Get, Inject } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  IngestResultSchema,
  INGESTION_LOG,
  type IngestionLog,
  type IngestionRecord,
} from '@strata/marketdata-contracts';
import { ProblemException, Roles, ZodParam, zodToOpenApi } from '@strata/platform-http';
import { z } from 'zod';

const IdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an ingestion id');

/** `GET /market-data/ingestions/{id}` (viewer): one ingest's result with every rejected row. */
@ApiTags('market-data')
@Controller('market-data/ingestions')
export class IngestionsController {
  constructor(@Inject(INGESTION_LOG) private readonly log: IngestionLog) {}

  @Get(':id')
  @Roles('viewer')
  @ApiOperation({ summary: 'An ingest result: status, counts, rejects (line, reason, message) and calendar gaps' })
  @ApiOkResponse({ schema: zodToOpenApi(IngestResultSchema) as never })
  @ApiNotFoundResponse({ description: 'No ingestion with this id (application/problem+json).' })
  async get(
    @ZodParam('id', IdSchema, { description: 'Ingestion id (from the ingest answer or its Location header).' })
    id: string,
  ): Promise<IngestionRecord> {
    const r = await this.log.get(id);
    if (!r) throw ProblemException.notFound(`no ingestion with id ${id}`);
    return r;
  }
}
