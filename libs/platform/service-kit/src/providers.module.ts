import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DOCUMENT_STORE, EVENT_BUS, type DocumentStore, type EventBus } from '@strata/platform-contracts';

/** Provides an {@link EventBus} instance under `EVENT_BUS` for the whole app (the bus is owned and closed by the caller). */
@Global()
@Module({})
export class EventBusProviderModule {
  static forRoot(bus: EventBus): DynamicModule {
    return {
      module: EventBusProviderModule,
      global: true,
      providers: [{ provide: EVENT_BUS, useValue: bus }],
      exports: [EVENT_BUS],
    };
  }
}

/** Provides a {@link DocumentStore} instance under `DOCUMENT_STORE` for the whole app (owned and closed by the caller). */
@Global()
@Module({})
export class DocumentStoreProviderModule {
  static forRoot(store: DocumentStore): DynamicModule {
    return {
      module: DocumentStoreProviderModule,
      global: true,
      providers: [{ provide: DOCUMENT_STORE, useValue: store }],
      exports: [DOCUMENT_STORE],
    };
  }
}
