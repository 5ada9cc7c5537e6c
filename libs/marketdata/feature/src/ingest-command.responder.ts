import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { durableConsumerName, type PayloadOf } from '@strata/platform-contracts';
import { IngestCommandV1, type IngestResult } from '@strata/marketdata-contracts';
import { BusContext, OnCommand } from '@strata/platform-messaging';
import { IngestBarsUseCase } from './ingest-bars.use-case';

/** Queue group of the ingest command: replicas of the ingestion service share the requests. */
export const INGEST_QUEUE = durableConsumerName('ingestion', IngestCommandV1);

/**
 * Serves `marketdata.cmd.ingest.v1` with request/reply: an `@OnCommand` handler bound by the bus transport
 * (validated command in, validated `IngestResult` out, under the `ingestion` queue group), the same on JetStream and
 * in process.
 */
@Controller()
export class IngestCommandResponder {
  constructor(private readonly ingest: IngestBarsUseCase) {}

  /** Runs one ingest (idempotent by content hash: a repeated batch answers with the recorded result). */
  @OnCommand(IngestCommandV1, { consumer: INGEST_QUEUE })
  ingestBars(@Payload() data: PayloadOf<typeof IngestCommandV1>, @Ctx() ctx: BusContext): Promise<IngestResult> {
    const env = ctx.getEnvelope();
    return this.ingest.execute(data, { correlationId: env.correlationId, causationId: env.id });
  }
}
