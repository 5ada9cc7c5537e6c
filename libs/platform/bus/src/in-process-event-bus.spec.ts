import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineEvent, type EventBus } from '@strata/platform-contracts';
import { InProcessEventBus } from './in-process-event-bus';
import { eventBusConformance, uniqueDomain, waitFor, type EventBusFactory } from './testing/event-bus.conformance';

/** Replicas of one process share one in-process bus: each `open` is a service view, the last close closes the root. */
function inProcessFactory(dataDir?: string): EventBusFactory {
  let root: InProcessEventBus | undefined;
  let views = 0;
  return {
    durableAcrossRestart: dataDir !== undefined,
    async open(service: string): Promise<EventBus> {
      if (!root || root.isClosed()) root = new InProcessEventBus({ service: 'root', dataDir, closeTimeoutMs: 3000 });
      const r = root;
      const view = r.forService(service);
      views++;
      return {
        publish: (d, x, o) => view.publish(d, x, o),
        subscribe: (d, h, o) => view.subscribe(d, h, o),
        request: (d, x, o) => view.request(d, x, o),
        reply: (d, h, o) => view.reply(d, h, o),
        subscribeDeadLetters: (s, h) => view.subscribeDeadLetters(s, h),
        health: () => (r.isClosed() ? r.health() : view.health()),
        close: async () => {
          await view.close();
          if (--views === 0) await r.close();
        },
      };
    },
  };
}

eventBusConformance('in-process (memory)', () => inProcessFactory());

describe('in-process with a data directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-bus-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  eventBusConformance('in-process (journal)', () => inProcessFactory(join(dir, 'conf')));

  const Ticked = defineEvent({
    subject: `${uniqueDomain()}.evt.clock.ticked.v1`,
    schema: z.object({ n: z.number().int() }),
    description: 'test',
  });

  it('keeps unacknowledged messages, offsets, dedup ids and dead letters across a restart', async () => {
    const dataDir = join(dir, 'restart');
    const b1 = new InProcessEventBus({ service: 's', dataDir, retainMessages: 2 });
    const got: number[] = [];
    await b1.subscribe(
      Ticked,
      (d) => {
        if (d.n === 3) throw new Error('bad three');
        got.push(d.n);
      },
      { consumer: 'c1', maxDeliver: 1 },
    );
    const first = await b1.publish(Ticked, { n: 1 });
    for (let n = 2; n <= 4; n++) await b1.publish(Ticked, { n });
    await waitFor(() => got.length === 3, 'first run');
    await b1.close();

    // Published while the consumer is down: only these come back, the acked ones do not.
    const b2 = new InProcessEventBus({ service: 's', dataDir, retainMessages: 2 });
    await b2.publish(Ticked, { n: 99 }, { id: first.id }); // duplicate of a stored id: dropped
    for (let n = 5; n <= 7; n++) await b2.publish(Ticked, { n });
    await b2.close();

    const b3 = new InProcessEventBus({ service: 's', dataDir, retainMessages: 2 });
    const again: number[] = [];
    const dls: string[] = [];
    await b3.subscribeDeadLetters(Ticked.subject, (dl) => void dls.push(dl.reason));
    await b3.subscribe(Ticked, (d) => void again.push(d.n), { consumer: 'c1' });
    await waitFor(() => again.length >= 3, 'after restart');
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([1, 2, 4]);
    expect(again).toEqual([5, 6, 7]);
    expect(dls).toEqual(['max_deliveries']);
    // Compaction at open dropped what every consumer had acknowledged beyond the retained tail (retainMessages = 2,
    // counted from the last sequence 7, bounded by c1's floor 4): a consumer that joins later starts at 5.
    const late: number[] = [];
    await b3.subscribe(Ticked, (d) => void late.push(d.n), { consumer: 'late', deliverFrom: 'all' });
    await waitFor(() => late.length >= 3, 'late consumer');
    expect(late).toEqual([5, 6, 7]);
    await b3.close();
  });

  it('redelivers a message whose handler was in flight when the process stopped', async () => {
    const dataDir = join(dir, 'inflight');
    const b1 = new InProcessEventBus({ service: 's', dataDir, closeTimeoutMs: 100 });
    await b1.subscribe(Ticked, () => new Promise<void>(() => undefined), { consumer: 'c2' });
    await b1.publish(Ticked, { n: 42 });
    await new Promise((r) => setTimeout(r, 20));
    await b1.close(); // gives up on the hung handler after closeTimeoutMs
    const b2 = new InProcessEventBus({ service: 's', dataDir });
    const got: number[] = [];
    await b2.subscribe(Ticked, (d) => void got.push(d.n), { consumer: 'c2' });
    await waitFor(() => got.length === 1, 'redelivery after restart');
    expect(got).toEqual([42]);
    await b2.close();
  });
});
