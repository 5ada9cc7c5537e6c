/** @jest-environment ./libs/signals/infra-onnx/src/testing/onnx-jest-environment.js */
/**
 * The standalone signals service without MONGODB_URI: `/signals` over its own embedded store, `/health`, an external
 * model imported and scored, a training request queued on the bus for the platform's worker.
 */
import { TrainModelCommandV1 } from '@strata/signals-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema } from './config';
import { startSignals, type SignalsService } from './signals';

jest.setTimeout(60_000);

describe('standalone signals service', () => {
  let dataDir: string;
  let bus: InProcessEventBus;
  let svc: SignalsService;
  const commands: PayloadOf<typeof TrainModelCommandV1>[] = [];
  const KEY = 'operator-key-0001';
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    svc.http.inject({ method, url, headers: { 'x-api-key': KEY }, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-signals-svc-'));
    bus = new InProcessEventBus({ service: 'test' });
    await bus.subscribe(TrainModelCommandV1, (c) => void commands.push(c), { consumer: 'e2e__train' });
    svc = await startSignals({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent', STRATA_API_KEYS: `operator:${KEY}` }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus: bus.forService('signals'),
    });
  });
  afterAll(async () => {
    await svc?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /health, imports and scores an ONNX model, queues training', async () => {
    expect((await svc.http.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await svc.http.inject({ method: 'GET', url: '/signals/models' })).statusCode).toBe(401);
    const doc = (await svc.http.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/signals/models',
        '/signals/models/{id}',
        '/signals/models/{id}/aliases/{alias}',
        '/signals/aliases/{alias}/rollback',
        '/signals/score',
        '/signals/{symbol}/latest',
      ]),
    );
    const dir = resolve(__dirname, '../../../libs/signals/infra-onnx/src/testing/fixtures');
    const imp = await call('POST', '/signals/models/import', {
      name: 'lgbm',
      onnxBase64: readFileSync(join(dir, 'lightgbm-core-v1.onnx')).toString('base64'),
    });
    expect(imp.statusCode).toBe(201);
    const fx = JSON.parse(readFileSync(join(dir, 'lightgbm-core-v1.predictions.json'), 'utf8')) as {
      featureNames: string[];
      rows: (number | null)[][];
      probability: number[];
    };
    const row = Object.fromEntries(fx.featureNames.map((n, j) => [n, fx.rows[0][j]]));
    const s = await call('POST', '/signals/score', { model: imp.json().id, rows: [row] });
    expect(s.statusCode).toBe(200);
    expect(Math.abs(s.json().scores[0] - fx.probability[0])).toBeLessThan(1e-5);
    const t = await call('POST', '/signals/models', { symbols: ['SPY'] });
    expect(t.statusCode).toBe(202);
    const end = Date.now() + 5000;
    while (!commands.some((c) => c.modelId === t.json().id) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    expect(commands.map((c) => c.modelId)).toContain(t.json().id);
  });
});
