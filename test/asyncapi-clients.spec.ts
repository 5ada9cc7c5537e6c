/**
 * The AsyncAPI document as outside clients see it: `@asyncapi/parser` (the parser of the AsyncAPI generator and
 * Studio) reads docs/asyncapi.json and the document the gateway serves at /asyncapi.json with zero errors and zero
 * warnings; the dead-letter channels carry the DeadLetter message; the message recorder of test/jest.after-env.ts
 * (every message sent during the suite validated against the document) rejects a message that does not match.
 */
import { Parser, type Diagnostic } from '@asyncapi/parser';
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../apps/gateway/src/config';
import { startGateway, type Gateway } from '../apps/gateway/src/gateway';
import { createAsyncApiRecorder } from './asyncapi-recorder';

jest.setTimeout(60_000);

const SEVERITY = ['error', 'warning', 'info', 'hint'] as const;

/** Diagnostics of one parse, counted by severity, with the errors and warnings spelled out. */
async function parse(text: string): Promise<{ counts: Record<string, number>; problems: string[]; parsed: boolean }> {
  const { document, diagnostics } = await new Parser().parse(text);
  const counts: Record<string, number> = { error: 0, warning: 0, info: 0, hint: 0 };
  for (const d of diagnostics) counts[SEVERITY[d.severity]]++;
  const problems = diagnostics
    .filter((d: Diagnostic) => d.severity <= 1)
    .map((d: Diagnostic) => `${SEVERITY[d.severity]} ${String(d.code)} ${d.path.join('.')}: ${d.message}`);
  return { counts, problems, parsed: document !== undefined };
}

const committed = readFileSync(join(__dirname, '..', 'docs', 'asyncapi.json'), 'utf8');

describe('AsyncAPI document read by @asyncapi/parser', () => {
  let dataDir: string;
  let bus: InProcessEventBus;
  let gw: Gateway;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-asyncapi-'));
    bus = new InProcessEventBus({ service: 'gateway' });
    gw = await startGateway({
      config: ConfigSchema.parse({
        STRATA_DATA_DIR: dataDir,
        STRATA_API_KEYS: 'admin:asyncapi-admin-key',
        LOG_LEVEL: 'silent',
      }),
      logger: createLogger({ service: 'asyncapi', level: 'silent' }),
      bus,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('docs/asyncapi.json: zero errors and zero warnings', async () => {
    const r = await parse(committed);
    process.stdout.write(`${JSON.stringify({ asyncapi: 'docs/asyncapi.json', ...r.counts })}\n`);
    expect(r.problems).toEqual([]);
    expect(r.parsed).toBe(true);
  });

  it('the served /asyncapi.json: zero errors and zero warnings, and it is the committed document', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/asyncapi.json' });
    expect(res.statusCode).toBe(200);
    const r = await parse(res.body);
    process.stdout.write(`${JSON.stringify({ asyncapi: 'GET /asyncapi.json', ...r.counts })}\n`);
    expect(r.problems).toEqual([]);
    expect(r.parsed).toBe(true);
    expect(JSON.parse(res.body)).toEqual(JSON.parse(committed));
  });

  it('documents the dead letters of every stored subject: DeadLetter body and Strata-Dlq-* headers', async () => {
    const { document } = await new Parser().parse(committed);
    const channels = document!.channels().all();
    const dlq = channels.filter((c) => c.address()?.startsWith('dlq.'));
    const stored = channels.filter((c) => !c.address()?.startsWith('dlq.') && !c.address()?.startsWith('rpc.'));
    expect(dlq.map((c) => c.address()).sort()).toEqual(stored.map((c) => `dlq.${c.address()}`).sort());
    for (const c of dlq) {
      const msgs = c.messages().all();
      expect(msgs.map((m) => m.name())).toEqual(['DeadLetter']);
      const headers = Object.keys(msgs[0].headers()?.properties() ?? {});
      expect(headers).toEqual(
        expect.arrayContaining([
          'Strata-Dlq-Reason',
          'Strata-Dlq-Consumer',
          'Strata-Dlq-Deliveries',
          'Strata-Dlq-Detail',
        ]),
      );
    }
    const servers = document!.servers().all();
    expect(servers[0].host()).toBe('{host}:{port}');
    expect(
      servers[0]
        .variables()
        .all()
        .map((v) => v.id())
        .sort(),
    ).toEqual(['host', 'port']);
  });

  it('the message recorder rejects a message that does not match the document (and accepts added optional fields)', () => {
    const recorder = createAsyncApiRecorder(JSON.parse(committed) as Record<string, unknown>);
    const envelope = {
      id: '0190c6a8-0000-7000-8000-000000000001',
      type: 'marketdata.evt.bars.corrected.v1',
      version: 1,
      occurredAt: '2024-01-02T14:00:00.000Z',
      producer: 'test',
      correlationId: 'c1',
      causationId: null,
    };
    recorder.observe(envelope.type, { ...envelope, data: { symbol: 42 } }, 'message');
    const bad = recorder.take();
    expect(bad).toHaveLength(1);
    expect(bad[0].errors.join(' ')).toMatch(/symbol/);
    recorder.observe('dlq.x.evt.y.happened.v1', { subject: 'x', reason: 'nope' }, 'dead-letter');
    expect(recorder.take()).toHaveLength(1);
    // Within a version producers may add optional fields: the envelope and payloads are open.
    recorder.observe(
      'dlq.x.evt.y.happened.v1',
      {
        subject: 'x.evt.y.happened.v1',
        consumer: 'c',
        reason: 'schema_invalid',
        detail: 'd',
        deliveries: 1,
        deadLetteredAt: '2024-01-02T14:00:00.000Z',
        payload: '{}',
        addedLater: true,
      },
      'dead-letter',
    );
    expect(recorder.take()).toEqual([]);
  });
});
