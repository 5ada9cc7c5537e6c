import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { hoistJsonSchemaDefinitions } from '@strata/platform-contracts';

/** Builds the OpenAPI document of an app's controllers (bearer and X-API-Key schemes declared). */
export function buildOpenApiDocument(app: INestApplication, version = '0.1.0'): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Strata API')
    .setDescription(
      'REST gateway of Strata. Authenticate with "Authorization: Bearer <key>" or "X-API-Key: <key>"; roles viewer < operator < admin. Errors are application/problem+json (RFC 9457). Events: /asyncapi.json.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key as a bearer token' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  // Recursive zod schemas (e.g. StrategyDefinitionV1) carry local definitions; publish them as shared components.
  doc.components ??= {};
  doc.components.schemas ??= {};
  hoistJsonSchemaDefinitions(
    doc.paths as unknown as Record<string, unknown>,
    doc.components.schemas as Record<string, unknown>,
    '#/components/schemas/',
    'Api',
  );
  return doc;
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
