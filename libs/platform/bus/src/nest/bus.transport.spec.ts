import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import { z } from 'zod';
import { defineCommand, defineEvent, EVENT_BUS, type DeadLetter, type EventBus } from '@strata/platform-contracts';
import { InProcessEventBus } from '../in-process-event-bus';
import { uniqueDomain, waitFor } from '../testing/event-bus.conformance';
import { BusContext, OnCommand, OnEvent } from '@strata/platform-messaging';
import { BusModule } from './bus.module';
import { BusTransport } from './bus.transport';

const domain = uniqueDomain();
const PriceMoved = defineEvent({
  subject: `${domain}.evt.price.moved.v1`,
  schema: z.object({ symbol: z.string(), bps: z.number() }),
  description: 'a price moved',
});
const Quote = defineCommand({
  subject: `${domain}.cmd.quote.v1`,
  schema: z.object({ symbol: z.string() }),
  reply: z.object({ symbol: z.string(), price: z.number() }),
  description: 'quote a symbol',
});

@Injectable()
class Seen {
  moves: Array<{ symbol: string; bps: number; delivery: number; id: string }> = [];
}

@Controller()
class PriceHandlers {
  constructor(
    private readonly seen: Seen,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  @OnEvent(PriceMoved, { backoffMs: [20], maxDeliver: 3 })
  async onMoved(@Payload() data: { symbol: string; bps: number }, @Ctx() ctx: BusContext): Promise<void> {
    // First delivery of a "flaky" symbol fails: the transport must hand the error back for a redelivery.
    if (data.symbol === 'FLAKY' && ctx.getDeliveryCount() === 1) throw new Error('downstream timeout');
    if (data.symbol === 'POISON') throw new Error('always fails');
    this.seen.moves.push({ ...data, delivery: ctx.getDeliveryCount(), id: ctx.getEnvelope().id });
  }

  @OnCommand(Quote)
  quote(@Payload() data: { symbol: string }): { symbol: string; price: number } {
    if (this.bus.health().status !== 'up') throw new Error('bus down');
    return { symbol: data.symbol, price: data.symbol.length * 10 };
  }
}

describe('BusTransport (NestJS microservice over the in-process bus)', () => {
  it('binds @OnEvent / @OnCommand methods to contracts with durable consumers, redelivery, DLQ and request/reply', async () => {
    const bus = new InProcessEventBus({ service: 'test' });
    @Module({
      imports: [BusModule.forRoot(bus, { closeOnShutdown: false })],
      controllers: [PriceHandlers],
      providers: [Seen],
    })
    class AppModule {}

    const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
      strategy: new BusTransport(bus, { service: 'pricing' }),
      logger: false,
    });
    await app.listen();
    const seen = app.get(Seen);
    const dls: DeadLetter[] = [];
    await bus.subscribeDeadLetters(PriceMoved.subject, (dl) => void dls.push(dl));

    const ok = await bus.publish(PriceMoved, { symbol: 'AAPL', bps: 12 });
    await bus.publish(PriceMoved, { symbol: 'FLAKY', bps: -3 });
    await bus.publish(PriceMoved, { symbol: 'POISON', bps: 0 });
    await waitFor(() => seen.moves.length >= 2 && dls.length >= 1, 'handled events and a dead letter');

    expect(seen.moves).toEqual([
      { symbol: 'AAPL', bps: 12, delivery: 1, id: ok.id },
      expect.objectContaining({ symbol: 'FLAKY', delivery: 2 }),
    ]);
    expect(dls[0]).toMatchObject({
      reason: 'max_deliveries',
      consumer: `pricing__${domain}_evt_price_moved__v1`,
      deliveries: 3,
    });
    await expect(bus.request(Quote, { symbol: 'MSFT' })).resolves.toEqual({ symbol: 'MSFT', price: 40 });

    await app.close();
    // After close the transport's consumers and responders are gone; the bus itself stays open (not owned).
    await expect(bus.request(Quote, { symbol: 'MSFT' })).rejects.toMatchObject({ code: 'no_responders' });
    await bus.publish(PriceMoved, { symbol: 'LATE', bps: 1 });
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.moves.map((m) => m.symbol)).not.toContain('LATE');
    await bus.close();
  });

  it('refuses a bare @EventPattern that is not bound to a contract', async () => {
    const { EventPattern } = await import('@nestjs/microservices');
    @Controller()
    class Bare {
      @EventPattern<string>('some.evt.thing.done.v1')
      handle(): void {}
    }
    @Module({ controllers: [Bare] })
    class BareModule {}
    const bus = new InProcessEventBus({ service: 'test' });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(BareModule, {
      strategy: new BusTransport(bus, { service: 'x' }),
      logger: false,
    });
    await expect(app.listen()).rejects.toThrow(/not bound to a contract/);
    await app.close().catch(() => undefined);
    await bus.close();
  });
});
