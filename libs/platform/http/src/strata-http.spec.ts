import { Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureBootstrapAdminKey, parseApiKeys, StaticApiKeyResolver } from './api-keys';
import { Public, Roles } from './auth.decorators';
import { configureStrataHttp, createStrataFastifyAdapter } from './fastify-app';
import { createLogger, PinoNestLogger } from './logging';
import { StrataHttpModule } from './strata-http.module';
import { ZodBody, ZodQuery } from './zod-validation.pipe';

const Create = z.object({ name: z.string().min(2), size: z.number().int().positive() });
const List = z.object({ limit: z.coerce.number().int().min(1).max(100).default(10), q: z.string().optional() });

@Controller('things')
class ThingsController {
  @Get()
  list(@ZodQuery(List) query: z.output<typeof List>) {
    return { query };
  }

  @Post()
  @Roles('operator')
  create(@ZodBody(Create) body: z.output<typeof Create>) {
    return { created: body };
  }

  @Get('admin')
  @Roles('admin')
  admin() {
    return { ok: true };
  }

  @Get('open')
  @Public()
  open() {
    return { open: true };
  }

  @Get('boom')
  @Public()
  boom() {
    throw new Error('secret internal detail');
  }
}

const KEYS = 'admin:admin-key-1,operator:operator-key-1,viewer:viewer-key-1';

@Module({
  imports: [StrataHttpModule.forRoot({ apiKeys: new StaticApiKeyResolver(parseApiKeys(KEYS)) })],
  controllers: [ThingsController],
})
class TestModule {}

describe('StrataHttpModule', () => {
  let app: NestFastifyApplication;
  let doc: ReturnType<typeof SwaggerModule.createDocument>;
  const logger = createLogger({ service: 'test', level: 'silent' });

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(TestModule, createStrataFastifyAdapter({ logger }), {
      logger: new PinoNestLogger(logger),
    });
    configureStrataHttp(app);
    doc = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('t').build());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const inject = (opts: Parameters<NestFastifyApplication['inject']>[0]) => app.inject(opts as never);

  it('401 problem+json without a key, with a challenge header', async () => {
    const r = await inject({ method: 'GET', url: '/things' });
    expect(r.statusCode).toBe(401);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.headers['www-authenticate']).toMatch(/Bearer/);
    const body = r.json();
    expect(body).toMatchObject({
      type: 'urn:strata:problem:unauthorized',
      title: 'Unauthorized',
      status: 401,
      instance: '/things',
    });
    expect(body.requestId).toBe(r.headers['x-request-id']);
  });

  it('401 with an unknown key', async () => {
    const r = await inject({ method: 'GET', url: '/things', headers: { authorization: 'Bearer nope-nope-nope' } });
    expect(r.statusCode).toBe(401);
  });

  it('accepts Bearer and X-API-Key, and enforces viewer < operator < admin', async () => {
    expect(
      (await inject({ method: 'GET', url: '/things', headers: { authorization: 'Bearer viewer-key-1' } })).statusCode,
    ).toBe(200);
    expect((await inject({ method: 'GET', url: '/things', headers: { 'x-api-key': 'viewer-key-1' } })).statusCode).toBe(
      200,
    );
    const forbidden = await inject({
      method: 'POST',
      url: '/things',
      headers: { 'x-api-key': 'viewer-key-1' },
      payload: { name: 'ab', size: 1 },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({
      type: 'urn:strata:problem:forbidden',
      status: 403,
      requiredRole: 'operator',
    });
    expect(
      (
        await inject({
          method: 'POST',
          url: '/things',
          headers: { 'x-api-key': 'operator-key-1' },
          payload: { name: 'ab', size: 1 },
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await inject({
          method: 'POST',
          url: '/things',
          headers: { 'x-api-key': 'admin-key-1' },
          payload: { name: 'ab', size: 1 },
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (await inject({ method: 'GET', url: '/things/admin', headers: { 'x-api-key': 'operator-key-1' } })).statusCode,
    ).toBe(403);
    expect(
      (await inject({ method: 'GET', url: '/things/admin', headers: { 'x-api-key': 'admin-key-1' } })).statusCode,
    ).toBe(200);
  });

  it('public routes need no key', async () => {
    const r = await inject({ method: 'GET', url: '/things/open' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ open: true });
  });

  it('validates the body with zod: 400 problem+json naming each field', async () => {
    const r = await inject({
      method: 'POST',
      url: '/things',
      headers: { 'x-api-key': 'operator-key-1' },
      payload: { name: 'a', size: -1 },
    });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = r.json();
    expect(body.type).toBe('urn:strata:problem:validation');
    expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.name', 'body.size']);
    expect(body.errors[0]).toHaveProperty('reason');
    expect(body.errors[0]).toHaveProperty('message');
  });

  it('validates and coerces the query', async () => {
    const ok = await inject({ method: 'GET', url: '/things?limit=5', headers: { 'x-api-key': 'viewer-key-1' } });
    expect(ok.json()).toEqual({ query: { limit: 5 } });
    const bad = await inject({ method: 'GET', url: '/things?limit=500', headers: { 'x-api-key': 'viewer-key-1' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('query.limit');
  });

  it('renders framework errors as problem+json: bad JSON, 404, 500 without internals', async () => {
    const badJson = await inject({
      method: 'POST',
      url: '/things',
      headers: { 'x-api-key': 'operator-key-1', 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.headers['content-type']).toMatch(/^application\/problem\+json/);
    const nf = await inject({ method: 'GET', url: '/nowhere' });
    expect(nf.statusCode).toBe(404);
    expect(nf.headers['content-type']).toMatch(/^application\/problem\+json/);
    const boom = await inject({ method: 'GET', url: '/things/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json().detail).not.toMatch(/secret/);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const a = await inject({ method: 'GET', url: '/things/open', headers: { 'x-request-id': 'abc-123' } });
    expect(a.headers['x-request-id']).toBe('abc-123');
    const b = await inject({ method: 'GET', url: '/things/open', headers: { 'x-request-id': 'bad id<script>' } });
    expect(b.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('documents zod bodies and queries in OpenAPI', () => {
    const post = doc.paths['/things'].post!;
    const schema = (post.requestBody as { content: Record<string, { schema: Record<string, unknown> }> }).content[
      'application/json'
    ].schema;
    expect(schema).toMatchObject({
      type: 'object',
      required: ['name', 'size'],
      properties: { name: { type: 'string', minLength: 2 }, size: { type: 'integer' } },
    });
    const params = doc.paths['/things'].get!.parameters as { name: string; in: string; required: boolean }[];
    expect(params.map((p) => [p.name, p.in, p.required]).sort()).toEqual([
      ['limit', 'query', false],
      ['q', 'query', false],
    ]);
  });
});

describe('API keys', () => {
  it('parses role:key lists and names bad items', () => {
    expect(parseApiKeys('admin:k1k1k1k1, viewer:k2k2k2k2')).toEqual([
      { role: 'admin', key: 'k1k1k1k1' },
      { role: 'viewer', key: 'k2k2k2k2' },
    ]);
    expect(parseApiKeys(undefined)).toEqual([]);
    expect(() => parseApiKeys('root:k1k1k1k1')).toThrow(/item 1/);
    expect(() => parseApiKeys('admin:k1k1k1k1,viewer:short')).toThrow(/item 2 \(viewer\)/);
  });

  it('creates a bootstrap admin key once and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-keys-'));
    const a = ensureBootstrapAdminKey(dir);
    expect(a.created).toBe(true);
    expect(statSync(a.path).mode & 0o777).toBe(0o600);
    const b = ensureBootstrapAdminKey(dir);
    expect(b).toEqual({ key: a.key, path: a.path, created: false });
    expect(readFileSync(a.path, 'utf8').trim()).toBe(a.key);
    expect(new StaticApiKeyResolver([{ role: 'admin', key: a.key }]).resolve(a.key)?.role).toBe('admin');
  });
});
