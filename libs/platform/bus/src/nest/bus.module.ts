import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_BUS, type EventBus } from '@strata/platform-contracts';

const BUS_MODULE_OPTIONS = Symbol('BUS_MODULE_OPTIONS');

/** Options of {@link BusModule.forRoot}. */
export interface BusModuleOptions {
  /** Close the bus when the Nest application shuts down (default true). */
  closeOnShutdown?: boolean;
}

/** Closes the bus on application shutdown when asked to. */
class BusLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(BUS_MODULE_OPTIONS) private readonly options: BusModuleOptions,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.options.closeOnShutdown !== false) await this.bus.close();
  }
}

/** Global Nest module providing the {@link EventBus} under the `EVENT_BUS` token (`@Inject(EVENT_BUS) bus: EventBus`). */
@Global()
@Module({})
export class BusModule {
  /** Registers an already created bus (see `createEventBus`) for the whole application. */
  static forRoot(bus: EventBus, options: BusModuleOptions = {}): DynamicModule {
    return {
      module: BusModule,
      global: true,
      providers: [
        { provide: EVENT_BUS, useValue: bus },
        { provide: BUS_MODULE_OPTIONS, useValue: options },
        BusLifecycle,
      ],
      exports: [EVENT_BUS],
    };
  }
}
