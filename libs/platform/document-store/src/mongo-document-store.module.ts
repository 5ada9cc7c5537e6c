import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DOCUMENT_STORE, type DocumentStore } from '@strata/platform-contracts';
import { MongoDocumentStore, type MongoDocumentStoreOptions } from './mongo-document.store';

@Injectable()
class MongoDocumentStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** Global `DOCUMENT_STORE` provider on MongoDB (`MONGODB_URI`); connects at boot, closes on application shutdown. */
@Module({})
export class MongoDocumentStoreModule {
  static forRoot(opts: MongoDocumentStoreOptions): DynamicModule {
    return {
      module: MongoDocumentStoreModule,
      global: true,
      providers: [
        { provide: DOCUMENT_STORE, useFactory: () => MongoDocumentStore.connect(opts) },
        MongoDocumentStoreLifecycle,
      ],
      exports: [DOCUMENT_STORE],
    };
  }
}
