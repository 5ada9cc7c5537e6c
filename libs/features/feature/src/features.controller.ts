import { Controller, Get } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  FeatureSetNameSchema,
  FeatureSetSummarySchema,
  FeatureSetVersionSchema,
  FeaturesPageSchema,
  FeaturesQuerySchema,
  type FeatureRowDto,
  type FeatureSetSummary,
  type FeatureSetVersion,
  type FeaturesQuery,
} from '@strata/features-contracts';
import { SymbolSchema, TimeframeSchema } from '@strata/marketdata-contracts';
import {
  invalidCursor,
  decodeCursor,
  encodeCursor,
  ProblemException,
  Roles,
  ZodParam,
  ZodQuery,
  zodToOpenApi,
} from '@strata/platform-http';
import { z } from 'zod';
import { FeatureSetNotFoundError, FeaturesService } from './features.service';

const isNumber = (k: unknown): k is number => typeof k === 'number' && Number.isSafeInteger(k);

/** Query of `GET /features/lineage`. */
const LineageQuerySchema = z.object({
  set: FeatureSetNameSchema.default('core'),
  version: z.coerce.number().int().positive().optional(),
  symbol: SymbolSchema.optional(),
  timeframe: TimeframeSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** One lineage record as served (times ISO-8601 UTC). */
const LineageDtoSchema = z.object({
  id: z.string(),
  set: z.string(),
  version: z.number(),
  codeVersion: z.string(),
  symbol: z.string(),
  timeframe: z.string(),
  from: z.string(),
  to: z.string(),
  rows: z.number(),
  barsContentHash: z.string(),
  barsCount: z.number(),
  adjustmentHash: z.string(),
  calendar: z.string(),
  reason: z.string(),
  createdAt: z.string(),
});

function notFound(e: unknown): never {
  if (e instanceof FeatureSetNotFoundError) throw ProblemException.notFound(e.message);
  throw e;
}

/** Feature-store REST (viewer): registered sets, their versions, and point-in-time values of a series. */
@ApiTags('features')
@Controller('features')
export class FeaturesController {
  constructor(private readonly features: FeaturesService) {}

  @Get('sets')
  @Roles('viewer')
  @ApiOperation({ summary: 'Registered feature sets with their versions' })
  @ApiOkResponse({ schema: zodToOpenApi(z.object({ items: z.array(FeatureSetSummarySchema) })) as never })
  async sets(): Promise<{ items: FeatureSetSummary[] }> {
    return { items: await this.features.listSets() };
  }

  @Get('sets/:name/versions')
  @Roles('viewer')
  @ApiOperation({
    summary: "A feature set's immutable versions: features, parameters, code version, view name, input adjustment",
  })
  @ApiOkResponse({ schema: zodToOpenApi(z.object({ items: z.array(FeatureSetVersionSchema) })) as never })
  @ApiNotFoundResponse({ description: 'No such feature set (application/problem+json).' })
  async versions(
    @ZodParam('name', FeatureSetNameSchema, { description: 'Feature-set name, e.g. core' }) name: string,
  ): Promise<{ items: FeatureSetVersion[] }> {
    return { items: await this.features.listVersions(name).catch(notFound) };
  }

  @Get('lineage')
  @Roles('viewer')
  @ApiOperation({
    summary: 'Lineage of materialisations (bars content hash, feature-set and code version, range, time), newest first',
  })
  @ApiOkResponse({ schema: zodToOpenApi(z.object({ items: z.array(LineageDtoSchema) })) as never })
  @ApiNotFoundResponse({ description: 'No such feature set or version (application/problem+json).' })
  async lineage(
    @ZodQuery(LineageQuerySchema) q: z.output<typeof LineageQuerySchema>,
  ): Promise<{ items: z.infer<typeof LineageDtoSchema>[] }> {
    const records = await this.features.lineage(q).catch(notFound);
    return {
      items: records.map(({ fromTs, toTs, createdAt, ...r }) => ({
        ...r,
        from: new Date(fromTs).toISOString(),
        to: new Date(toTs).toISOString(),
        createdAt: new Date(createdAt).toISOString(),
      })),
    };
  }

  @Get()
  @Roles('viewer')
  @ApiOperation({
    summary: 'Feature values of one series, paginated',
    description:
      'Rows `{ symbol, ts, <feature>: number|null }` in ascending bar time (`ts` = bar start, ISO-8601 UTC). Point-in-time: the values at a bar use only bars up to it. Warm-up values are null. `version` defaults to the latest; `limit` ≤ 10,000.',
  })
  @ApiOkResponse({ schema: zodToOpenApi(FeaturesPageSchema) as never })
  @ApiNotFoundResponse({ description: 'No such feature set or version (application/problem+json).' })
  async values(
    @ZodQuery(FeaturesQuerySchema) q: FeaturesQuery,
  ): Promise<{ items: FeatureRowDto[]; nextCursor: string | null }> {
    const definition = await this.features.resolveVersion(q.set, q.version).catch(notFound);
    const filter = `features|${q.set}|${definition.version}|${q.symbol}|${q.timeframe}|${q.from ?? ''}|${q.to ?? ''}`;
    let after: number | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor, filter, isNumber);
      if (after === undefined) throw invalidCursor();
    }
    const { ts, columns } = await this.features.read({
      set: q.set,
      version: definition.version,
      symbol: q.symbol,
      timeframe: q.timeframe,
      from: q.from,
      to: q.to,
      after,
      limit: q.limit + 1,
    });
    const n = Math.min(ts.length, q.limit);
    const names = definition.features.map((f) => f.name);
    const items: FeatureRowDto[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const row: FeatureRowDto = { symbol: q.symbol, ts: new Date(ts[i]).toISOString() };
      for (const f of names) {
        const v = columns[f][i];
        row[f] = v === v ? v : null;
      }
      items[i] = row;
    }
    return { items, nextCursor: ts.length > q.limit ? encodeCursor(ts[n - 1], filter) : null };
  }
}
