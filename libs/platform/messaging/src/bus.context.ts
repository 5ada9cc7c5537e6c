import { BaseRpcContext } from '@nestjs/microservices';
import { type Envelope, type MessageContext } from '@strata/platform-contracts';

/** The Nest RPC context of a bus message (`@Ctx() ctx: BusContext`). */
export class BusContext extends BaseRpcContext<[MessageContext<unknown>]> {
  constructor(ctx: MessageContext<unknown>) {
    super([ctx]);
  }
  /** The validated envelope (payload already parsed by the contract schema). */
  getEnvelope(): Envelope<unknown> {
    return this.args[0].envelope;
  }
  /** Subject the message arrived on. */
  getSubject(): string {
    return this.args[0].subject;
  }
  /** 1 on first delivery. */
  getDeliveryCount(): number {
    return this.args[0].deliveryCount;
  }
  /** Message headers (e.g. `traceparent`). */
  getHeaders(): Record<string, string> {
    return this.args[0].headers;
  }
}
