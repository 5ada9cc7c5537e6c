import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Writable } from 'node:stream';
import { StaticApiKeyResolver } from './api-keys';
import { Public } from './auth.decorators';
import { configureStrataHttp, createStrataFastifyAdapter } from './fastify-app';
import { createLogger, PinoNestLogger } from './logging';
import { StrataHttpModule } from './strata-http.module';

@Public()
@Controller()
class ProbeController {
  @Get('health/live')
  live() {
    return { status: 'up' };
  }

  @Get('quotes')
  quotes() {
    return { items: [] };
  }
}

@Module({
  imports: [StrataHttpModule.forRoot({ apiKeys: new StaticApiKeyResolver([]) })],
  controllers: [ProbeController],
})
class ProbeModule {}

describe('request logging', () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  let app: NestFastifyApplication;

  const start = async (level: 'info' | 'debug') => {
    const logger = createLogger({ service: 'test', level }, sink);
    app = await NestFactory.create<NestFastifyApplication>(ProbeModule, createStrataFastifyAdapter({ logger }), {
      logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    });
    configureStrataHttp(app);
    await app.init();
  };
  afterEach(() => app.close());

  it('writes one "request completed" line per request (method, url, status, time, reqId); probes only at debug', async () => {
    await start('info');
    lines.length = 0;
    const r = await app.inject({ method: 'GET', url: '/quotes?limit=5', headers: { 'x-request-id': 'req-42' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-request-id']).toBe('req-42');
    await app.inject({ method: 'GET', url: '/health/live' });
    await app.inject({ method: 'GET', url: '/nowhere' });
    const requests = lines.filter((l) => l.reqId !== undefined);
    expect(
      requests.map((l) => [l.msg, (l.req as { url: string }).url, (l.res as { statusCode: number }).statusCode]),
    ).toEqual([
      ['request completed', '/quotes?limit=5', 200],
      ['request completed', '/nowhere', 404],
    ]);
    expect(requests[0]).toMatchObject({ level: 'info', reqId: 'req-42', req: { method: 'GET' } });
    expect(typeof requests[0].responseTime).toBe('number');
    expect(lines.some((l) => l.msg === 'incoming request')).toBe(false);
  });

  it('logs the probes at debug', async () => {
    await start('debug');
    lines.length = 0;
    await app.inject({ method: 'GET', url: '/health/live' });
    expect(lines.filter((l) => l.msg === 'request completed')).toEqual([
      expect.objectContaining({ level: 'debug', req: expect.objectContaining({ url: '/health/live' }) }),
    ]);
  });
});
