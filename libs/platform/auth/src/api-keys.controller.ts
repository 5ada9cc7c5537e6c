import { Controller, Delete, Get, Header, HttpCode, HttpStatus, Inject, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DocumentStoreError, MAX_PAGE_LIMIT, nonBlankText, PageCursorSchema } from '@strata/platform-contracts';
import {
  API_ROLES,
  ProblemException,
  problemType,
  Roles,
  ZodBody,
  ZodParam,
  ZodQuery,
  zodToOpenApi,
  type AuthenticatedRequest,
} from '@strata/platform-http';
import { z } from 'zod';
import { API_KEY_SERVICE } from './auth.tokens';
import type { ApiKeyService, ApiKeyView, IssuedApiKey } from './api-keys.service';

/** Body of `POST /admin/api-keys`. */
export const CreateApiKeyBodySchema = z.object({
  name: nonBlankText(100).describe('Label, e.g. "ci-ingest".'),
  role: z.enum(API_ROLES).describe('viewer reads, operator ingests and runs jobs, admin manages keys.'),
  expiresAt: z.iso
    .datetime()
    .transform((s) => new Date(s).toISOString())
    .optional()
    .describe('ISO-8601 instant after which the key stops working; omit for no expiry.'),
});

/** Query of `GET /admin/api-keys`. */
export const ListApiKeysQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(50),
  cursor: PageCursorSchema.optional(),
  includeRevoked: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Also list revoked keys.'),
});

/** Path parameter `id`: the public key id `key_<12 base32 characters>`. */
export const ApiKeyIdSchema = z.string().regex(/^key_[a-z2-7]{12}$/, 'expected a key id key_<12 base32 characters>');

/** An API key as the API shows it (never its secret or hash); times ISO-8601 UTC. */
export const ApiKeyViewSchema = z.object({
  id: ApiKeyIdSchema,
  name: z.string(),
  role: z.enum(API_ROLES),
  status: z.enum(['active', 'revoked', 'expired']),
  createdAt: z.iso.datetime(),
  createdBy: z.string().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  revokedBy: z.string().nullable(),
});

/** The answer of `POST /admin/api-keys`: the view plus the plaintext key, shown exactly once. */
export const IssuedApiKeySchema = ApiKeyViewSchema.extend({
  key: z.string().describe('The plaintext key; only its SHA-256 is stored, so it is shown here and nowhere else.'),
});

/** Store errors (bad cursor 400, not found 404, conflict 409) as problem+json. */
function asProblem(err: unknown): unknown {
  if (err instanceof DocumentStoreError && err.httpStatus < 500) {
    return new ProblemException({
      type: problemType(err.code.replace(/_/g, '-')),
      status: err.httpStatus,
      detail: err.message,
    });
  }
  return err;
}

/**
 * `/admin/api-keys` (admin only): issue, list, show and revoke API keys. The plaintext key is returned once, by the
 * POST that creates it (with `Cache-Control: no-store`).
 */
@ApiTags('admin')
@Roles('admin')
@Controller('admin/api-keys')
export class ApiKeysController {
  constructor(@Inject(API_KEY_SERVICE) private readonly keys: ApiKeyService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Issue an API key', description: 'Returns the key once; only its SHA-256 is stored.' })
  @ApiCreatedResponse({
    description: 'The new key, including the plaintext `key` (shown only here).',
    schema: zodToOpenApi(IssuedApiKeySchema) as never,
  })
  create(
    @ZodBody(CreateApiKeyBodySchema) body: z.output<typeof CreateApiKeyBodySchema>,
    @Req() req: AuthenticatedRequest,
  ): Promise<IssuedApiKey> {
    return this.keys.create({ ...body, createdBy: req.principal?.keyId ?? null }).catch((e: unknown) => {
      throw asProblem(e);
    });
  }

  @Get()
  @ApiOperation({ summary: 'List API keys, newest first (cursor pagination)' })
  @ApiOkResponse({
    description: '{ items, nextCursor }; pass nextCursor as `cursor` for the next page.',
    schema: zodToOpenApi(z.object({ items: z.array(ApiKeyViewSchema), nextCursor: z.string().nullable() })) as never,
  })
  list(
    @ZodQuery(ListApiKeysQuerySchema) q: z.output<typeof ListApiKeysQuerySchema>,
  ): Promise<{ items: ApiKeyView[]; nextCursor: string | null }> {
    return this.keys.list(q).catch((e: unknown) => {
      throw asProblem(e);
    });
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The key (never its secret).', schema: zodToOpenApi(ApiKeyViewSchema) as never })
  @ApiNotFoundResponse({ description: 'No such key (application/problem+json).' })
  async get(@ZodParam('id', ApiKeyIdSchema, { description: 'Key id, `key_…`.' }) id: string): Promise<ApiKeyView> {
    const k = await this.keys.get(id);
    if (!k) throw ProblemException.notFound(`no API key ${id}`);
    if (k.status === 'revoked')
      throw new ProblemException({
        type: problemType('api-key-revoked'),
        status: 404,
        detail: `API key ${id} was revoked at ${k.revokedAt ?? 'an unknown time'}`,
        key: k,
      });
    return k;
  }

  @Delete(':id')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Takes effect at once on this replica and within seconds on others. Idempotent.',
  })
  @ApiOkResponse({ description: 'The revoked key.', schema: zodToOpenApi(ApiKeyViewSchema) as never })
  @ApiNotFoundResponse({ description: 'No such key (application/problem+json).' })
  async revoke(
    @ZodParam('id', ApiKeyIdSchema, { description: 'Key id, `key_…`.' }) id: string,
    @Req() req: AuthenticatedRequest,
  ): Promise<ApiKeyView> {
    const k = await this.keys.revoke(id, req.principal?.keyId ?? null);
    if (!k) throw ProblemException.notFound(`no API key ${id}`);
    return k;
  }
}
