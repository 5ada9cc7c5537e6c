import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Public } from './auth.decorators';
import { configureStrataHttp, createStrataFastifyAdapter } from './fastify-app';
import { createLogger, PinoNestLogger } from './logging';
import { isHttpStatusError, toProblem } from './problem-json.filter';
import { StaticApiKeyResolver } from './api-keys';
import { StrataHttpModule } from './strata-http.module';

/**
 * Same shape as the document-store port's errors (`@strata/platform-contracts`), declared here because
 * `@strata/platform-http` imports none of our libs.
 */
class StoreLikeError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

@Public()
@Controller('store')
class StoreController {
  @Get('duplicate')
  duplicate() {
    throw new StoreLikeError(
      'duplicate key in api_keys: index name_uniq (name) already holds {"name":"x"}',
      'duplicate_key',
      409,
    );
  }

  @Get('missing')
  async missing() {
    throw new StoreLikeError('no document d1 in jobs', 'document_not_found', 404);
  }

  @Get('cursor')
  cursor() {
    throw new StoreLikeError('invalid cursor for ingestions: not base64url', 'invalid_cursor', 400);
  }

  @Get('spec')
  spec() {
    throw new StoreLikeError('bad collection spec for jobs: secret table layout', 'collection_spec', 500);
  }
}

@Module({
  imports: [StrataHttpModule.forRoot({ apiKeys: new StaticApiKeyResolver([]) })],
  controllers: [StoreController],
})
class TestModule {}

describe('problem+json for errors that carry httpStatus and code (document-store errors)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    app = await NestFactory.create<NestFastifyApplication>(TestModule, createStrataFastifyAdapter({ logger }), {
      logger: new PinoNestLogger(logger),
    });
    configureStrataHttp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('answers the status and a type derived from the code, with the message as detail', async () => {
    const cases: [string, number, string][] = [
      ['/store/duplicate', 409, 'urn:strata:problem:duplicate-key'],
      ['/store/missing', 404, 'urn:strata:problem:document-not-found'],
      ['/store/cursor', 400, 'urn:strata:problem:invalid-cursor'],
    ];
    for (const [url, status, type] of cases) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(status);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json()).toMatchObject({
        type,
        status,
        instance: url,
        requestId: expect.any(String),
        code: type.slice('urn:strata:problem:'.length).replace(/-/g, '_'),
      });
    }
    expect((await app.inject({ method: 'GET', url: '/store/duplicate' })).json().detail).toMatch(
      /^duplicate key in api_keys: index name_uniq/,
    );
  });

  it('a 5xx store error keeps its status but reveals nothing', async () => {
    const r = await app.inject({ method: 'GET', url: '/store/spec' });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toMatchObject({ type: 'urn:strata:problem:internal', status: 500 });
    expect(r.body).not.toMatch(/secret|collection_spec/);
  });

  it('matches structurally and only well-formed carriers', () => {
    expect(isHttpStatusError(new StoreLikeError('m', 'version_conflict', 409))).toBe(true);
    expect(isHttpStatusError(Object.assign(new Error('m'), { httpStatus: 409 }))).toBe(false); // no code
    expect(isHttpStatusError(Object.assign(new Error('m'), { httpStatus: 200, code: 'ok' }))).toBe(false); // not an error status
    expect(isHttpStatusError(Object.assign(new Error('m'), { httpStatus: '409', code: 'x' }))).toBe(false);
    expect(isHttpStatusError({ httpStatus: 409, code: 'x', message: 'plain object' })).toBe(false);
    // A MongoDB driver error has a numeric code and no httpStatus: it stays an opaque 500.
    expect(toProblem(Object.assign(new Error('E11000 duplicate key'), { code: 11000 })).problem).toMatchObject({
      status: 500,
      type: 'urn:strata:problem:internal',
    });
  });
});
