/**
 * The OpenAPI document against the running routes, in one process (the all-in-one platform, empty store): every
 * operation documents what its decorators make it answer (400 for a validated body, query or path parameter, 401/403
 * for a protected one, 404 for a paginated one, problem+json bodies for every error, a response schema for every
 * success), the cursor has the pattern the server applies, creates link to their reads, the keys are not JWTs, and
 * every documented path answers a method it does not declare with 405 and an `Allow` naming exactly its methods.
 * `npm run test:contract` (schemathesis against the booted platform) checks the same from the outside.
 */
import { OPENAPI_METHODS, operationsOf, PROBLEM_SCHEMA_REF } from '@strata/platform-service-kit';
import { createLogger, PROBLEM_JSON, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import type { OpenAPIObject } from '@nestjs/swagger';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

jest.setTimeout(120_000);

const ADMIN = 'admin-key-contract-0001';

type Res = { description?: string; content?: Record<string, { schema?: Record<string, unknown> }>; links?: object };
type Param = { name: string; in: string; schema?: Record<string, unknown> };

describe('OpenAPI document against the running routes (platform)', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  let doc: OpenAPIObject;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-openapi-'));
    bus = new InProcessEventBus({ service: 'platform' });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver([{ role: 'admin', key: ADMIN }]),
    });
    const r = await platform.gateway.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    doc = r.json();
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ops = () =>
    operationsOf(doc).map(({ path, method, op }) => ({ label: `${method.toUpperCase()} ${path}`, path, method, op }));
  const responses = (op: unknown) => (op as { responses: Record<string, Res> }).responses;
  const params = (op: unknown) => (op as { parameters?: Param[] }).parameters ?? [];

  it('documents a response schema for every success but 204, and a problem+json body for every error', () => {
    const missing: string[] = [];
    for (const { label, op } of ops())
      for (const [code, res] of Object.entries(responses(op))) {
        if (code === '204') {
          if (res.content) missing.push(`${label} ${code}: a 204 has no body`);
          continue;
        }
        const types = Object.keys(res.content ?? {});
        if (!types.length || !types.every((t) => res.content![t].schema)) missing.push(`${label} ${code}: no schema`);
        // The health probes answer 503 with the health report, as documented; every other error is a Problem.
        if (/^[45]/.test(code) && !label.startsWith('GET /health')) {
          const schema = res.content?.[PROBLEM_JSON]?.schema;
          if (types.length !== 1 || schema?.$ref !== PROBLEM_SCHEMA_REF)
            missing.push(`${label} ${code}: not a Problem`);
        }
      }
    expect(missing).toEqual([]);
    expect(doc.components?.schemas?.Problem).toMatchObject({ type: 'object', required: ['type', 'title', 'status'] });
  });

  it('documents 400 wherever a body or a parameter is validated, 401/403 wherever a key is needed', () => {
    const missing: string[] = [];
    for (const { label, op } of ops()) {
      const codes = Object.keys(responses(op));
      // A plain string path parameter (an id looked up as given) validates nothing; any other parameter does.
      const validated = params(op).some(
        (p) => p.in !== 'path' || Object.keys(p.schema ?? {}).some((k) => k !== 'type'),
      );
      if ((op.requestBody || validated) && !codes.includes('400')) missing.push(`${label}: 400`);
      const secured = ((op as { security?: unknown[] }).security ?? []).length > 0;
      const publicPath = /^\/(health|asyncapi\.json)/.test(label.split(' ')[1]);
      if (!publicPath && !secured) missing.push(`${label}: no security`);
      if (secured && !(codes.includes('401') && codes.includes('403'))) missing.push(`${label}: 401/403`);
    }
    expect(missing).toEqual([]);
  });

  it('gives every cursor the pattern the server applies, and documents the 404 of a cursor that names no page', () => {
    const paginated = ops().filter(({ op }) => params(op).some((p) => p.name === 'cursor'));
    expect(paginated.length).toBeGreaterThanOrEqual(10);
    for (const { label, op } of paginated) {
      expect([label, params(op).find((p) => p.name === 'cursor')?.schema?.pattern]).toEqual([
        label,
        '^[A-Za-z0-9_-]{1,512}$',
      ]);
      expect([label, Object.keys(responses(op))]).toEqual([label, expect.arrayContaining(['400', '404'])]);
    }
  });

  it('states formats, oneOf and limits as the server enforces them', () => {
    const body = (path: string, method: string) =>
      (
        doc.paths[path] as Record<
          string,
          { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } }
        >
      )[method].requestBody.content['application/json'].schema;
    // POST /backtests: exactly one of a saved strategy and a definition.
    const backtest = body('/backtests', 'post');
    expect((backtest.oneOf as Array<{ required: string[] }>).map((b) => b.required)).toEqual([
      expect.arrayContaining(['strategyId']),
      expect.arrayContaining(['definition']),
    ]);
    // exDate is a calendar date; the bars' from/to are a date or an RFC 3339 date-time.
    expect(JSON.stringify(body('/market-data/corporate-actions', 'post'))).toContain('"format":"date"');
    const from = (doc.paths['/market-data/bars'].get!.parameters as Param[]).find((p) => p.name === 'from')!;
    expect((from.schema!.anyOf as Array<{ format: string }>).map((s) => s.format)).toEqual(['date', 'date-time']);
    // PATCH /webhooks/{id} {} is refused: at least one property.
    expect(body('/webhooks/{id}', 'patch')).toMatchObject({ minProperties: 1 });
  });

  it('refuses an empty value for a number query parameter (400), as its integer schema says', async () => {
    const r = await platform.gateway.inject({
      method: 'GET',
      url: '/dashboard/data-quality?recent=',
      headers: { 'x-api-key': ADMIN },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors).toEqual([expect.objectContaining({ field: 'query.recent', reason: 'invalid_type' })]);
  });

  it('answers a garbled multipart body with 400 (found by schemathesis as a 500)', async () => {
    const r = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': ADMIN, 'content-type': 'multipart/form-data; boundary=b0' },
      payload: '--b0\r\n__main__--b0--\r\n',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors).toEqual([expect.objectContaining({ field: 'form', reason: 'malformed_multipart' })]);
  });

  it('links every create to the read of what it created, and declares the keys opaque', () => {
    for (const [path, method, code] of [
      ['/backtests', 'post', '202'],
      ['/strategies', 'post', '201'],
      ['/webhooks', 'post', '201'],
      ['/admin/api-keys', 'post', '201'],
      ['/signals/models', 'post', '202'],
    ] as const) {
      const links = responses((doc.paths[path] as Record<string, unknown>)[method])[code].links;
      expect([path, links]).toEqual([path, expect.objectContaining({})]);
      expect(Object.values(links as object)[0]).toMatchObject({ parameters: { id: '$response.body#/id' } });
    }
    // Every link names an operation of the document.
    const ids = new Set(operationsOf(doc).map(({ op }) => (op as { operationId?: string }).operationId));
    const targets = operationsOf(doc).flatMap(({ op }) =>
      Object.values(responses(op)).flatMap((r) =>
        Object.values((r.links ?? {}) as Record<string, { operationId: string }>).map((l) => l.operationId),
      ),
    );
    expect(targets).toContain('IngestionsController_get');
    expect(targets.filter((t) => !ids.has(t))).toEqual([]);
    expect(doc.components?.securitySchemes?.bearer).not.toHaveProperty('bearerFormat');
  });

  it('answers every documented path a method it does not declare with 405 and Allow (OPTIONS: 204 and Allow)', async () => {
    const wrong: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      const declared = OPENAPI_METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((m) => m.toUpperCase());
      const allow = [...new Set([...declared, ...(declared.includes('GET') ? ['HEAD'] : [])])].sort().join(', ');
      const url = path.replace(/\{[^}]+\}/g, 'x1');
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE'].filter((m) => !declared.includes(m))) {
        const r = await platform.gateway.inject({ method: method as 'GET', url, headers: { 'x-api-key': ADMIN } });
        if (
          r.statusCode !== 405 ||
          r.headers.allow !== allow ||
          !String(r.headers['content-type']).startsWith(PROBLEM_JSON)
        )
          wrong.push(
            `${method} ${url}: ${r.statusCode} allow=${String(r.headers.allow)} (expected 405 allow=${allow})`,
          );
      }
      const o = await platform.gateway.inject({ method: 'OPTIONS', url });
      if (o.statusCode !== 204 || o.headers.allow !== allow)
        wrong.push(`OPTIONS ${url}: ${o.statusCode} ${String(o.headers.allow)}`);
    }
    expect(wrong).toEqual([]);
  });
});
