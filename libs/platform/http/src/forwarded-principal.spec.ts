import { Controller, Get, Module, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parseApiKeys, StaticApiKeyResolver } from './api-keys';
import type { AuthenticatedRequest } from './api-key.guard';
import { Roles } from './auth.decorators';
import { createStrataFastifyAdapter } from './fastify-app';
import {
  encodeForwardedPrincipal,
  FORWARDED_PRINCIPAL_HEADER,
  forwardedPrincipal,
  INTERNAL_TOKEN_HEADER,
  internalRequestToken,
  isInternalRequest,
} from './forwarded-principal';
import { createLogger } from './logging';
import { StrataHttpModule } from './strata-http.module';

@Controller('orders')
class OrdersController {
  @Get()
  list(@Req() req: AuthenticatedRequest) {
    return { principal: req.principal };
  }

  @Get('admin')
  @Roles('admin')
  admin() {
    return { ok: true };
  }
}

@Module({
  imports: [StrataHttpModule.forRoot({ apiKeys: new StaticApiKeyResolver(parseApiKeys('viewer:viewer-key-1')) })],
  controllers: [OrdersController],
})
class TestModule {}

describe('forwarded principal', () => {
  const admin = encodeForwardedPrincipal({ role: 'admin', keyId: 'key_0123456789ab' });
  const viewer = encodeForwardedPrincipal({ role: 'viewer', keyId: 'key_ba9876543210' });

  it('is trusted only with this process token, and only for a known role', () => {
    const token = internalRequestToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(isInternalRequest(token)).toBe(true);
    expect(isInternalRequest(`${token.slice(0, -1)}x`)).toBe(false);
    expect(isInternalRequest(undefined)).toBe(false);
    expect(forwardedPrincipal({ [FORWARDED_PRINCIPAL_HEADER]: admin, [INTERNAL_TOKEN_HEADER]: token })).toEqual({
      role: 'admin',
      keyId: 'key_0123456789ab',
    });
    expect(forwardedPrincipal({ [FORWARDED_PRINCIPAL_HEADER]: admin })).toBeUndefined();
    expect(
      forwardedPrincipal({ [FORWARDED_PRINCIPAL_HEADER]: admin, [INTERNAL_TOKEN_HEADER]: 'guess' }),
    ).toBeUndefined();
    const root = JSON.stringify({ role: 'root', keyId: 'key_x' });
    expect(forwardedPrincipal({ [FORWARDED_PRINCIPAL_HEADER]: root, [INTERNAL_TOKEN_HEADER]: token })).toBeUndefined();
    expect(forwardedPrincipal({ [FORWARDED_PRINCIPAL_HEADER]: '{no', [INTERNAL_TOKEN_HEADER]: token })).toBeUndefined();
  });

  describe('ApiKeyGuard', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await NestFactory.create<NestFastifyApplication>(
        TestModule,
        createStrataFastifyAdapter({ logger: createLogger({ service: 'test', level: 'silent' }) }),
        { logger: false },
      );
      await app.init();
    });
    afterAll(() => app.close());
    const get = (url: string, headers: Record<string, string>) => app.inject({ method: 'GET', url, headers });

    it('authorizes a forwarded principal by its role when the internal token is right', async () => {
      const token = internalRequestToken();
      const ok = await get('/orders/admin', { [FORWARDED_PRINCIPAL_HEADER]: admin, [INTERNAL_TOKEN_HEADER]: token });
      expect(ok.statusCode).toBe(200);
      const low = await get('/orders/admin', { [FORWARDED_PRINCIPAL_HEADER]: viewer, [INTERNAL_TOKEN_HEADER]: token });
      expect(low.statusCode).toBe(403);
      const me = await get('/orders', { [FORWARDED_PRINCIPAL_HEADER]: viewer, [INTERNAL_TOKEN_HEADER]: token });
      expect(me.json()).toEqual({ principal: { role: 'viewer', keyId: 'key_ba9876543210' } });
    });

    it('ignores a spoofed principal: without the token the request authenticates by its own key', async () => {
      const spoof = { [FORWARDED_PRINCIPAL_HEADER]: admin, [INTERNAL_TOKEN_HEADER]: 'guessed' };
      expect((await get('/orders/admin', spoof)).statusCode).toBe(401);
      expect((await get('/orders/admin', { ...spoof, 'x-api-key': 'viewer-key-1' })).statusCode).toBe(403);
    });
  });
});
