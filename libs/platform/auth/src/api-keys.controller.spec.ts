import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DuckDb } from '@strata/platform-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import {
  configureStrataHttp,
  createLogger,
  createStrataFastifyAdapter,
  parseApiKeys,
  PinoNestLogger,
  StrataHttpModule,
} from '@strata/platform-http';
import { AuthModule, createApiKeyAuth } from './auth.module';

describe('/admin/api-keys over HTTP with the gateway guard', () => {
  let app: NestFastifyApplication;
  let store: DuckDbDocumentStore;
  const ADMIN = 'config-admin-key';
  const VIEWER = 'config-viewer-key';

  beforeAll(async () => {
    store = new DuckDbDocumentStore(await DuckDb.create(':memory:'));
    const auth = createApiKeyAuth(store, parseApiKeys(`admin:${ADMIN},viewer:${VIEWER}`));
    @Module({
      imports: [StrataHttpModule.forRoot({ apiKeys: auth.resolver }), AuthModule.register({ service: auth.service })],
    })
    class TestApp {}
    const logger = createLogger({ service: 'test', level: 'silent' });
    app = await NestFactory.create<NestFastifyApplication>(TestApp, createStrataFastifyAdapter({ logger }), {
      logger: new PinoNestLogger(logger),
    });
    configureStrataHttp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const call = (method: string, url: string, key?: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: key ? { authorization: `Bearer ${key}` } : {},
      ...(payload ? { payload } : {}),
    } as never);

  it('bootstrap admin (config) issues an operator key that then authenticates; viewers are refused', async () => {
    expect((await call('GET', '/admin/api-keys')).statusCode).toBe(401);
    expect((await call('GET', '/admin/api-keys', VIEWER)).statusCode).toBe(403);

    const created = await call('POST', '/admin/api-keys', ADMIN, { name: 'ingest-bot', role: 'operator' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const issued = created.json();
    expect(issued).toMatchObject({
      name: 'ingest-bot',
      role: 'operator',
      status: 'active',
      createdBy: expect.stringMatching(/^key_/),
    });
    expect(issued.key).toMatch(/^strata_key_/);

    // The new key authenticates, but only up to its role.
    expect((await call('GET', '/admin/api-keys', issued.key)).statusCode).toBe(403);

    const list = await call('GET', '/admin/api-keys?limit=10', ADMIN);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((k: { id: string }) => k.id)).toEqual([issued.id]);
    expect(JSON.stringify(list.json())).not.toContain(issued.key);
    expect(JSON.stringify(list.json())).not.toContain('secretHash');

    const adminKey = (await call('POST', '/admin/api-keys', ADMIN, { name: 'second-admin', role: 'admin' })).json();
    expect((await call('GET', `/admin/api-keys/${issued.id}`, adminKey.key)).json()).toMatchObject({ id: issued.id });

    const revoked = await call('DELETE', `/admin/api-keys/${issued.id}`, adminKey.key);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ status: 'revoked', revokedBy: adminKey.id });
    expect((await call('GET', '/admin/api-keys', issued.key)).statusCode).toBe(401);
  });

  it('answers problem+json for bad bodies, bad cursors and unknown keys', async () => {
    const bad = await call('POST', '/admin/api-keys', ADMIN, { name: '', role: 'root' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['body.name', 'body.role']);
    const malformed = await call('GET', '/admin/api-keys?cursor=garbage!', ADMIN);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors[0]).toMatchObject({ field: 'query.cursor', reason: 'invalid_format' });
    const cursor = await call('GET', '/admin/api-keys?cursor=garbage', ADMIN);
    expect(cursor.statusCode).toBe(404);
    expect(cursor.json()).toMatchObject({ type: 'urn:strata:problem:invalid-cursor' });
    expect((await call('GET', '/admin/api-keys/key_aaaaaaaaaaaa', ADMIN)).statusCode).toBe(404);
    expect((await call('DELETE', '/admin/api-keys/key_aaaaaaaaaaaa', ADMIN)).statusCode).toBe(404);
  });
});
