/*
 * Scoring parts of bench:signals (called by bench/signals.bench.ts; importable, prints nothing on stdout). The rule
 * they follow: bench/README.md.
 * - `scorerFor` + `scoreRowsPerS`: one-thread batch scoring through the signals service's batch engine
 *   (`OnnxTreeScorer` on the model exported to ONNX and imported back, `batchThreads: 0` = the compiled ensemble on the
 *   calling thread), probabilities out, over DISTINCT rows: the first batch warms the engine up and is not timed, the
 *   remaining batches are rows the engine has never seen (the same split as the peers, bench/peers/peer_timing.py).
 * - `restFigures`: one-row `POST /signals/score` through the all-in-one platform's gateway on a real HTTP port
 *   (keep-alive client, model registered through `POST /signals/models/import`): p50 / p99 / max latency in ms.
 */
import { FEATURE_SET_CORE_V1 } from '@strata/shared-indicators';
import type { TreeEnsemble } from '@strata/signals-domain';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { exportTreeEnsembleToOnnx, importOnnxTreeModel, OnnxTreeScorer } from '@strata/signals-infra-onnx';
import { ConfigSchema } from '../apps/platform/src/config';
import { startPlatform } from '../apps/platform/src/platform';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, Agent } from 'node:http';

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** The model under the `core` v1 feature names (22 columns), so that the REST import accepts it. */
export function asCoreModel(model: TreeEnsemble): TreeEnsemble {
  const names = FEATURE_SET_CORE_V1.features.map((f) => f.name);
  if (names.length !== model.featureNames.length)
    throw new RangeError(`the bench model has ${model.featureNames.length} features, core v1 has ${names.length}`);
  return { ...model, featureNames: names };
}

/**
 * The service's batch engine on the calling thread for `model`: exported to ONNX, imported back (the decoded
 * ensemble is what the service compiles), `OnnxTreeScorer` with `batchThreads: 0`.
 */
export async function scorerFor(model: TreeEnsemble): Promise<OnnxTreeScorer> {
  const core = asCoreModel(model);
  const bytes = exportTreeEnsembleToOnnx(core);
  const imported = importOnnxTreeModel(bytes, { featureNames: core.featureNames });
  if (!imported.ok) throw new Error('benchmark model failed its import check');
  const scorer = await OnnxTreeScorer.create(bytes, imported.info, { batchThreads: 0 });
  if (scorer.engineFor(10_000) !== 'compiled-js') throw new Error(`unexpected engine ${scorer.engineFor(10_000)}`);
  return scorer;
}

/**
 * Rows/s of `scorer` over the distinct rows of `X` (`d` columns) in batches of `batch` rows (see the file comment), in
 * wall time and per CPU second of the process (every thread of it: the scoring thread, and GC's), and the
 * probabilities of every scored row (the first `rows` rows, a whole number of batches).
 */
export async function scoreRowsPerS(
  scorer: OnnxTreeScorer,
  X: Float64Array,
  d: number,
  batch: number,
): Promise<{ rowsPerS: number; rowsPerCpuS: number; rows: number; out: Float64Array }> {
  const nRows = X.length / d;
  const rows = nRows - (nRows % batch);
  const out = new Float64Array(rows);
  await scorer.score(X.subarray(0, batch * d), batch, out.subarray(0, batch));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = batch; i < rows; i += batch)
    await scorer.score(X.subarray(i * d, (i + batch) * d), batch, out.subarray(i, i + batch));
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return { rowsPerS: (rows - batch) / s, rowsPerCpuS: (rows - batch) / ((cpu.user + cpu.system) / 1e6), rows, out };
}

function post(
  agent: Agent,
  port: number,
  path: string,
  body: string,
  key: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': key },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One-row `POST /signals/score` latency (ms) through the all-in-one platform's gateway: `requests` requests, each
 * with its own row of `X` (`d` columns, NaN sent as null), after 300 warm-up requests on other rows.
 */
export async function restFigures(
  model: TreeEnsemble,
  X: Float64Array,
  d: number,
  requests: number,
): Promise<{ p50_ms: number; p99_ms: number; max_ms: number; requests: number }> {
  const core = asCoreModel(model);
  const warm = 300;
  if (X.length < (warm + requests) * d) throw new RangeError(`need ${warm + requests} rows for the REST figures`);
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-bench-signals-'));
  const bus = new InProcessEventBus({ service: 'bench' });
  const bootstrapKey = 'operator-bench-key-0001';
  const platform = await startPlatform({
    config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
    logger: createLogger({ service: 'bench', level: 'silent' }),
    bus,
    apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: bootstrapKey }]),
  });
  // A key issued by the platform, as a client holds one (its verification is cached like in production).
  const { key } = await platform.apiKeys.create({ name: 'bench', role: 'operator' });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await platform.gateway.listen({ port: 0, host: '127.0.0.1' });
    const address = platform.gateway.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const imp = await post(
      agent,
      port,
      '/signals/models/import',
      JSON.stringify({
        name: 'bench',
        featureSet: { name: 'core', version: 1 },
        onnxBase64: Buffer.from(exportTreeEnsembleToOnnx(core)).toString('base64'),
      }),
      key,
    );
    if (imp.status !== 201) throw new Error(`import failed: ${imp.status} ${imp.body}`);
    const modelId = (JSON.parse(imp.body) as { id: string }).id;
    const body = (r: number): string => {
      const row: Record<string, number | null> = {};
      core.featureNames.forEach((f, j) => {
        const v = X[r * d + j];
        row[f] = v === v ? v : null;
      });
      return JSON.stringify({ model: modelId, rows: [row] });
    };
    for (let i = 0; i < warm; i++) {
      const r = await post(agent, port, '/signals/score', body(i), key);
      if (r.status !== 200) throw new Error(`score failed: ${r.status} ${r.body}`);
    }
    const lat: number[] = [];
    for (let i = 0; i < requests; i++) {
      const b = body(warm + i);
      const t = performance.now();
      const r = await post(agent, port, '/signals/score', b, key);
      lat.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`score failed: ${r.status} ${r.body}`);
    }
    lat.sort((a, b) => a - b);
    const r3 = (x: number): number => Number(x.toFixed(3));
    return { p50_ms: r3(pct(lat, 50)), p99_ms: r3(pct(lat, 99)), max_ms: r3(lat[lat.length - 1]), requests };
  } finally {
    agent.destroy();
    await platform.close();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
