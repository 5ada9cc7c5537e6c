import { Module, type DynamicModule } from '@nestjs/common';
import { DOCUMENT_STORE, type DocumentStore } from '@strata/platform-contracts';
import { ApiKeyEntry } from '@strata/platform-http';
import { ApiKeyRepository, API_KEY_REPOSITORY } from './api-key.repository';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeyService, StoredApiKeyResolver, type ApiKeyServiceOptions } from './api-keys.service';
import { API_KEY_SERVICE } from './auth.tokens';

/**
 * Builds the key service and the resolver for `StrataHttpModule.forRoot({ apiKeys })` from a document store, for
 * apps that create the HTTP module before Nest's injector runs:
 * `const auth = createApiKeyAuth(store, config.STRATA_API_KEYS)` then
 * `StrataHttpModule.forRoot({ apiKeys: auth.resolver })` and `AuthModule.register({ service: auth.service })`.
 */
export function createApiKeyAuth(
  store: DocumentStore,
  configKeys: readonly ApiKeyEntry[] = [],
  opts?: ApiKeyServiceOptions,
): { repository: ApiKeyRepository; service: ApiKeyService; resolver: StoredApiKeyResolver } {
  const repository = new ApiKeyRepository(store);
  const service = new ApiKeyService(repository, opts);
  return { repository, service, resolver: new StoredApiKeyResolver(service, configKeys) };
}

/**
 * The `/admin/api-keys` endpoints. With `service` it uses that instance (share it with the resolver so a
 * revocation clears the verification cache at once); otherwise it builds one from the global `DOCUMENT_STORE`.
 * Exports `API_KEY_SERVICE` and `API_KEY_REPOSITORY`.
 */
@Module({})
export class AuthModule {
  static register(opts: { service?: ApiKeyService; serviceOptions?: ApiKeyServiceOptions } = {}): DynamicModule {
    const providers = opts.service
      ? [{ provide: API_KEY_SERVICE, useValue: opts.service }]
      : [
          {
            provide: API_KEY_REPOSITORY,
            useFactory: (store: DocumentStore) => new ApiKeyRepository(store),
            inject: [DOCUMENT_STORE],
          },
          {
            provide: API_KEY_SERVICE,
            useFactory: (repo: ApiKeyRepository) => new ApiKeyService(repo, opts.serviceOptions),
            inject: [API_KEY_REPOSITORY],
          },
        ];
    return {
      module: AuthModule,
      controllers: [ApiKeysController],
      providers,
      exports: [API_KEY_SERVICE],
    };
  }
}
