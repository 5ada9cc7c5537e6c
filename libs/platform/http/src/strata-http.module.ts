import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { API_KEY_RESOLVER, type ApiKeyResolver } from './api-keys';
import { ApiKeyGuard } from './api-key.guard';
import { httpTracingActive, HttpTracingInterceptor } from './http-tracing.interceptor';
import { ProblemJsonExceptionFilter } from './problem-json.filter';

/**
 * Wires the HTTP conventions into an app: the global {@link ApiKeyGuard} (keys from `apiKeys`), the
 * problem+json exception filter and the request-span interceptor. Import once in the HTTP app's root module.
 *
 * The interceptor is registered only when tracing is on (`tracing`, default {@link httpTracingActive} when the
 * module is built, i.e. the telemetry SDK started first, as `bootService` does): with no interceptor at all Nest
 * calls the handler directly instead of through an RxJS pipeline per request.
 */
@Module({})
export class StrataHttpModule {
  static forRoot(opts: { apiKeys: ApiKeyResolver; tracing?: boolean }): DynamicModule {
    const tracing = opts.tracing ?? httpTracingActive();
    return {
      module: StrataHttpModule,
      global: true,
      providers: [
        { provide: API_KEY_RESOLVER, useValue: opts.apiKeys },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemJsonExceptionFilter },
        ...(tracing ? [{ provide: APP_INTERCEPTOR, useClass: HttpTracingInterceptor }] : []),
      ],
      exports: [API_KEY_RESOLVER],
    };
  }
}
