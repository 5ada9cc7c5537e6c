import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { durableConsumerName, EVENT_BUS, type BusSubscription, type EventBus } from '@strata/platform-contracts';
import { IngestCommandV1 } from '@strata/marketdata-contracts';
import { IngestBarsUseCase } from './ingest-bars.use-case';

/** Queue group of the ingest command: replicas of the ingestion service share the requests. */
export const INGEST_QUEUE = durableConsumerName('ingestion', IngestCommandV1);

/**
 * Serves `marketdata.cmd.ingest.v1` with request/reply on the {@link EventBus} port while the Nest context runs:
 * validated command in, validated `IngestResult` out, under the `ingestion` queue group. It talks to the port, not
 * to an adapter, so it runs the same on JetStream and in process (feature libraries may not import infra ones).
 */
@Injectable()
export class IngestCommandResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription: BusSubscription | undefined;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly ingest: IngestBarsUseCase,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.reply(
      IngestCommandV1,
      (data, ctx) => this.ingest.execute(data, { correlationId: ctx.envelope.correlationId, causationId: ctx.envelope.id }),
      { queue: INGEST_QUEUE },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const s = this.subscription;
    this.subscription = undefined;
    await s?.stop();
  }
}
