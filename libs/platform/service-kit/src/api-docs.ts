import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { hoistJsonSchemaDefinitions } from '@strata/platform-contracts';
import { PROBLEM_JSON, ProblemDocumentSchema, zodToOpenApi } from '@strata/platform-http';

/** `#/components/schemas/Problem`: the schema of every error body. */
export const PROBLEM_SCHEMA_REF = '#/components/schemas/Problem';
/** HTTP methods an OpenAPI path item may hold. */
export const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
  security?: unknown[];
  responses: Record<string, Json & { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

/** Each operation of a document with its path and method. */
export function operationsOf(
  doc: Pick<OpenAPIObject, 'paths'>,
): Array<{ path: string; method: string; op: Operation }> {
  const out: Array<{ path: string; method: string; op: Operation }> = [];
  for (const [path, item] of Object.entries(doc.paths ?? {}))
    for (const method of OPENAPI_METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (op) out.push({ path, method, op });
    }
  return out;
}

/** Documents `status` (a problem+json answer) on `op` unless it is documented already. */
export function addProblemResponse(op: Operation, status: number, description: string): void {
  op.responses[String(status)] ??= {
    description,
    content: { [PROBLEM_JSON]: { schema: { $ref: PROBLEM_SCHEMA_REF } } },
  };
}

/**
 * Completes what the decorators documented, in one place for every app: the `Problem` component and its
 * `application/problem+json` body on every 4xx/5xx answer, and OpenAPI links from each create to the read of what
 * it created (`POST /x` → `GET /x/{id}`, `$response.body#/id`), so a client (or a fuzzer) can chain them.
 */
export function completeOpenApiDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.components.schemas.Problem = zodToOpenApi(ProblemDocumentSchema) as never;
  const byPath = new Map<string, Record<string, Operation>>();
  for (const { path, method, op } of operationsOf(doc)) {
    if (!byPath.has(path)) byPath.set(path, {});
    byPath.get(path)![method] = op;
    for (const [code, res] of Object.entries(op.responses ?? {}))
      if (/^[45]\d\d$/.test(code) && !res.content)
        res.content = { [PROBLEM_JSON]: { schema: { $ref: PROBLEM_SCHEMA_REF } } };
  }
  // The read of a created resource: GET <path>/{x}, else GET <parent>/{x} (`POST /strategies/from-template`).
  const readOf = (path: string): { path: string; param: string; op: Operation } | undefined => {
    for (const base of [path, path.slice(0, path.lastIndexOf('/'))])
      for (const [p, ops] of byPath) {
        const m = /^\/\{([^/}]+)\}$/.exec(p.slice(base.length));
        if (m && p.startsWith(base) && ops.get?.operationId) return { path: p, param: m[1], op: ops.get };
      }
    return undefined;
  };
  for (const { path, method, op } of operationsOf(doc)) {
    if (method !== 'post') continue;
    const read = readOf(path);
    if (!read) continue;
    for (const [code, res] of Object.entries(op.responses)) {
      const schema = res.content?.['application/json']?.schema as { properties?: Json } | undefined;
      if (!/^20[012]$/.test(code) || res.links || !schema?.properties?.id) continue;
      res.links = {
        [`read${read.param[0].toUpperCase()}${read.param.slice(1)}`]: {
          operationId: read.op.operationId,
          parameters: { [read.param]: '$response.body#/id' },
          description: `The created resource: GET ${read.path}.`,
        },
      };
    }
  }
  return doc;
}

/** Builds the OpenAPI 3.1 document of an app's controllers (bearer and X-API-Key schemes declared), completed. */
export function buildOpenApiDocument(app: INestApplication, version = '0.1.0'): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Strata API')
    .setDescription(
      'REST gateway of Strata. Authenticate with "Authorization: Bearer <key>" or "X-API-Key: <key>"; roles viewer < operator < admin. Errors are application/problem+json (RFC 9457). A method a path does not declare answers 405 with Allow. Events: /asyncapi.json.',
    )
    .setVersion(version)
    .setOpenAPIVersion('3.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An opaque API key as the bearer token' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An opaque API key' }, 'apiKey')
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  // DocumentBuilder.addBearerAuth fills in bearerFormat: JWT; the keys are opaque.
  const bearer = doc.components?.securitySchemes?.bearer as { bearerFormat?: string } | undefined;
  if (bearer) delete bearer.bearerFormat;
  // Recursive zod schemas (e.g. StrategyDefinitionV1) carry local definitions; publish them as shared components.
  doc.components ??= {};
  doc.components.schemas ??= {};
  hoistJsonSchemaDefinitions(
    doc.paths as unknown as Record<string, unknown>,
    doc.components.schemas as Record<string, unknown>,
    '#/components/schemas/',
    'Api',
  );
  return completeOpenApiDocument(doc);
}

/**
 * Serves Swagger UI at `/docs` and the OpenAPI document at `/openapi.json` (both public: not Nest routes). `patch`
 * rewrites the document on each request (the gateway merges its owners' documents into its own).
 */
export function setupApiDocs(
  app: INestApplication,
  version?: string,
  patch?: (doc: OpenAPIObject) => Promise<OpenAPIObject>,
): OpenAPIObject {
  const doc = buildOpenApiDocument(app, version);
  SwaggerModule.setup('docs', app, doc, {
    jsonDocumentUrl: '/openapi.json',
    yamlDocumentUrl: '/openapi.yaml',
    customSiteTitle: 'Strata API',
    ...(patch ? { patchDocumentOnRequest: (_req: unknown, _res: unknown, d: OpenAPIObject) => patch(d) } : {}),
  });
  return doc;
}
