import { Controller, Inject, Logger, Module, type DynamicModule } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { BAR_QUALITY_FLAGS, type BarQualityFlagsStore } from '@strata/dataquality-contracts';
import { SetQualityFlagStatusCommandV1, UpsertQualityFlagsCommandV1 } from '@strata/marketdata-contracts';
import { durableConsumerName, type PayloadOf } from '@strata/platform-contracts';
import { OnCommand } from '@strata/platform-messaging';

/** Durable work-queue consumer of `marketdata.cmd.quality-flags.upsert.v1` in the marketdata service. */
export const UPSERT_QUALITY_FLAGS_CONSUMER = durableConsumerName('marketdata', UpsertQualityFlagsCommandV1);
/** Durable work-queue consumer of `marketdata.cmd.quality-flags.set-status.v1` in the marketdata service. */
export const SET_QUALITY_FLAG_STATUS_CONSUMER = durableConsumerName('marketdata', SetQualityFlagStatusCommandV1);

/**
 * Applies the sentinel's bar-quality flag commands to the flags table the marketdata service owns (the only writer of
 * the DuckDB file): `upsert` is idempotent per (symbol, timeframe, ts, kind) and `setStatus` per event, so a
 * redelivered command changes nothing.
 */
@Controller()
export class QualityFlagsCommandsController {
  private readonly logger = new Logger('quality-flags');

  constructor(@Inject(BAR_QUALITY_FLAGS) private readonly flags: BarQualityFlagsStore) {}

  /** Stores flags (replaces event id, severity and status of an existing key). */
  @OnCommand(UpsertQualityFlagsCommandV1, { consumer: UPSERT_QUALITY_FLAGS_CONSUMER })
  async upsert(@Payload() data: PayloadOf<typeof UpsertQualityFlagsCommandV1>): Promise<void> {
    await this.flags.upsert(data.flags);
    this.logger.debug?.({ msg: 'quality flags stored', flags: data.flags.length });
  }

  /** Sets the status of every flag of one DataQualityEvent. */
  @OnCommand(SetQualityFlagStatusCommandV1, { consumer: SET_QUALITY_FLAG_STATUS_CONSUMER })
  async setStatus(@Payload() data: PayloadOf<typeof SetQualityFlagStatusCommandV1>): Promise<void> {
    await this.flags.setStatus(data.eventId, data.status);
  }
}

/**
 * The marketdata service's handler of the quality-flag commands, bound by the bus transport (add it to the worker
 * modules of the marketdata app with its `DuckDbBarQualityFlagsStore`; consumers {@link UPSERT_QUALITY_FLAGS_CONSUMER}
 * and {@link SET_QUALITY_FLAG_STATUS_CONSUMER}).
 */
@Module({})
export class QualityFlagsCommandsModule {
  static register(flags: BarQualityFlagsStore): DynamicModule {
    return {
      module: QualityFlagsCommandsModule,
      controllers: [QualityFlagsCommandsController],
      providers: [{ provide: BAR_QUALITY_FLAGS, useValue: flags }],
    };
  }
}
