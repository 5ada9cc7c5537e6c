/*
 * Scoring figures of bench:signals (called by bench/signals.bench.ts; importable, prints nothing on stdout):
 * - batch: a 200-tree, 31-leaf binary tree ensemble over the 22 `core` features (bench:signals passes its trained
 *   model; standalone: random leaf-wise trees, thresholds drawn from the data's value pool), exported to ONNX, in
 *   batches of 10,000 rows, every engine in the same run:
 *   - `batch_rows_per_s`: what the signals service uses for such batches (`OnnxTreeScorer` with its default options;
 *     `batch_engine` names the engine), probability out, double input;
 *   - onnxruntime-node (CPU) with the double-input export (default threads, one thread) and a float32-input export;
 *   - the compiled ensemble (`compileTreeEnsemble`) on the calling thread, with and without the branch-predictable row
 *     order, through the scorer on the calling thread and on two worker threads; the TypeScript reference scorer
 *     (`predictMargin` + sigmoid);
 *   - `compiled_ns_per_tree_row`: the calling-thread kernel's time per (tree, row) visit.
 * - REST: one-row `POST /signals/score` through the all-in-one platform's gateway on a real HTTP port (keep-alive
 *   client, model registered through `POST /signals/models/import`): p50 / p99 / max latency in ms.
 * Env: BENCH_SCORING_ROWS (default 1,000,000 rows per batch measurement), BENCH_REST_REQUESTS (default 3,000).
 */
import { FEATURE_SET_CORE_V1 } from '@strata/shared-indicators';
import {
  compileTreeEnsemble,
  predictMargin,
  sigmoid,
  type CompileTreeEnsembleOptions,
  type TreeEnsemble,
} from '@strata/signals-domain';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import {
  exportTreeEnsembleToOnnx,
  importOnnxTreeModel,
  OnnxTreeScorer,
  type OnnxScorerOptions,
  type OnnxTreeModelInfo,
} from '@strata/signals-infra-onnx';
import { mulberry32 } from '@strata/shared-random';
import { randomEnsemble, randomRows } from '@strata/signals-infra-onnx/testing';
import { ConfigSchema } from '../apps/platform/src/config';
import { startPlatform } from '../apps/platform/src/platform';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, Agent } from 'node:http';

/** What {@link measureSignalsScoring} measures (see the file comment); rows/s are wall-clock, batches of `batch_size`. */
export interface SignalsScoringFigures {
  /** The signals service's batch path (`OnnxTreeScorer`, default options): rows per second. */
  batch_rows_per_s: number;
  /** Engine behind `batch_rows_per_s` (`OnnxTreeScorer.engineFor`), e.g. `compiled-js-workers-1`. */
  batch_engine: string;
  batch_size: number;
  n_trees: number;
  n_leaves: number;
  n_features: number;
  /** onnxruntime-node, double input (the exported production model), default intra-op threads (one per core). */
  onnxruntime_rows_per_s: number;
  /** Same, onnxruntime restricted to one intra-op thread. */
  batch_1thread_rows_per_s: number;
  /** onnxruntime-node with a float32-input export of the same model (default threads). */
  batch_f32_rows_per_s: number;
  /** The scorer's compiled engine split across two worker threads (both cores of a 2-CPU machine). */
  compiled_2threads_rows_per_s: number;
  /** The scorer's compiled engine on the calling thread (`batchThreads: 0`). */
  compiled_calling_thread_rows_per_s: number;
  /** `compileTreeEnsemble` + sigmoid on the calling thread (the kernel alone, branch-predictable row order). */
  ts_compiled_rows_per_s: number;
  /** Same kernel with the row order off (`reorderMinRows: Infinity`): rows in the caller's order. */
  ts_compiled_unordered_rows_per_s: number;
  /** Nanoseconds per (tree, row) of `ts_compiled_rows_per_s` (one core). */
  compiled_ns_per_tree_row: number;
  /** The TypeScript reference scorer on one core. */
  ts_predict_margin_rows_per_s: number;
  /** Max |engine − TypeScript reference| probability over the measured rows, over every engine above. */
  batch_max_abs_diff: number;
  rest_one_row_p50_ms: number;
  rest_one_row_p99_ms: number;
  rest_one_row_max_ms: number;
  rest_requests: number;
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const r3 = (x: number): number => Number(x.toFixed(3));

/** The benchmark model: 200 trees × 31 leaves over the 22 `core` v1 features. */
export function benchmarkModel(): { model: TreeEnsemble; pool: Float64Array } {
  const pool = Float64Array.from({ length: 255 }, (_, i) => -3 + (6 * i) / 254);
  const model = randomEnsemble({
    seed: 42,
    objective: 'binary',
    nFeatures: 22,
    nTrees: 200,
    leaves: 31,
    thresholdPool: pool,
  });
  return {
    model: {
      ...model,
      featureNames: FEATURE_SET_CORE_V1.features.map((f) => f.name),
      trees: model.trees.map((t, i) =>
        t.splitFeature.length === 0
          ? randomEnsemble({
              seed: 1000 + i,
              objective: 'binary',
              nFeatures: 22,
              nTrees: 1,
              leaves: 31,
              thresholdPool: pool,
            }).trees[0]
          : t,
      ),
    },
    pool,
  };
}

async function batchFigures(model: TreeEnsemble, X: Float64Array, totalRows: number, batch: number) {
  const X32 = Float32Array.from(X);
  const rounds = Math.max(1, Math.round(totalRows / batch));
  const measure = async (score: () => Promise<unknown> | unknown): Promise<number> => {
    // Warm-up: 20 batches, so the generated scoring functions are optimised (in every worker) before the clock starts
    // (a long-lived service scores warm; 5 batches left the first engine measured visibly colder than the others).
    for (let i = 0; i < 20; i++) await score();
    const t = performance.now();
    for (let i = 0; i < rounds; i++) await score();
    return (rounds * batch) / ((performance.now() - t) / 1000);
  };
  const bytes64 = exportTreeEnsembleToOnnx(model);
  const bytes32 = exportTreeEnsembleToOnnx(model, { inputType: 'float32' });
  const i64 = importOnnxTreeModel(bytes64, { featureNames: model.featureNames });
  const i32 = importOnnxTreeModel(bytes32, { featureNames: model.featureNames });
  if (!i64.ok || !i32.ok) throw new Error('benchmark model failed its import check');
  const ref = predictMargin(model, X, batch);
  for (let i = 0; i < batch; i++) ref[i] = sigmoid(ref[i]);
  let maxDiff = 0;
  const out = new Float64Array(batch);
  const check = (): void => {
    for (let i = 0; i < batch; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - ref[i]));
  };
  // One scorer at a time (each holds threads), each checked against the reference after its measurement.
  const scorer = async (
    bytes: Uint8Array,
    info: OnnxTreeModelInfo,
    opts: OnnxScorerOptions,
    input: Float64Array | Float32Array = X,
  ) => {
    const s = await OnnxTreeScorer.create(bytes, info, opts);
    try {
      const rowsPerS = await measure(() => s.score(input, batch, out));
      out.fill(NaN);
      await s.score(input, batch, out);
      if (input === X) check();
      return { rowsPerS, engine: s.engineFor(batch) };
    } finally {
      await s.close();
    }
  };
  const service = await scorer(bytes64, i64.info, {});
  const ort = await scorer(bytes64, i64.info, { batchEngine: 'onnxruntime' });
  const ort1 = await scorer(bytes64, i64.info, { batchEngine: 'onnxruntime', intraOpNumThreads: 1 });
  const ort32 = await scorer(bytes32, i32.info, { batchEngine: 'onnxruntime' }, X32);
  const two = await scorer(bytes64, i64.info, { batchThreads: 2 });
  const calling = await scorer(bytes64, i64.info, { batchThreads: 0 });
  const kernel = async (opts: CompileTreeEnsembleOptions): Promise<number> => {
    const compiled = compileTreeEnsemble(model, opts);
    const rowsPerS = await measure(() => {
      compiled(X, batch, out);
      for (let i = 0; i < batch; i++) out[i] = sigmoid(out[i]);
    });
    check();
    return rowsPerS;
  };
  const tsCompiled = await kernel({});
  const tsUnordered = await kernel({ reorderMinRows: Infinity });
  const ts = await measure(() => {
    predictMargin(model, X, batch, out);
    for (let i = 0; i < batch; i++) out[i] = sigmoid(out[i]);
  });
  return { service, ort, ort1, ort32, two, calling, tsCompiled, tsUnordered, ts, maxDiff };
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

async function restFigures(model: TreeEnsemble, pool: Float64Array, requests: number) {
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
        onnxBase64: Buffer.from(exportTreeEnsembleToOnnx(model)).toString('base64'),
      }),
      key,
    );
    if (imp.status !== 201) throw new Error(`import failed: ${imp.status} ${imp.body}`);
    const modelId = (JSON.parse(imp.body) as { id: string }).id;
    const rand = mulberry32(11);
    const bodies = Array.from({ length: 64 }, () => {
      const row: Record<string, number | null> = {};
      for (const f of model.featureNames)
        row[f] = rand() < 0.05 ? null : pool[Math.floor(rand() * pool.length)] + (rand() - 0.5) * 0.01;
      return JSON.stringify({ model: modelId, rows: [row] });
    });
    for (let i = 0; i < 300; i++) {
      const r = await post(agent, port, '/signals/score', bodies[i % bodies.length], key);
      if (r.status !== 200) throw new Error(`score failed: ${r.status} ${r.body}`);
    }
    const lat: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      const r = await post(agent, port, '/signals/score', bodies[i % bodies.length], key);
      lat.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`score failed: ${r.status} ${r.body}`);
    }
    lat.sort((a, b) => a - b);
    return { p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] };
  } finally {
    agent.destroy();
    await platform.close();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Measures batch scoring throughput (onnxruntime-node, batches of 10,000) and one-row REST latency through the
 * platform gateway (see the file comment). Logs go to stderr; nothing is printed on stdout.
 */
export async function measureSignalsScoring(given?: {
  model: TreeEnsemble;
  rows: Float64Array;
}): Promise<SignalsScoringFigures> {
  const batch = 10_000;
  const bench = benchmarkModel();
  const pool = bench.pool;
  // A trained model (bench:signals passes its own) is scored under the `core` names so the REST import accepts it.
  const model = given ? { ...given.model, featureNames: bench.model.featureNames } : bench.model;
  const X = given
    ? given.rows.subarray(0, batch * model.featureNames.length)
    : randomRows(mulberry32(7), batch, model.featureNames.length, pool, 0.1, 0.1);
  const b = await batchFigures(model, X, Number(process.env.BENCH_SCORING_ROWS ?? 1_000_000), batch);
  const requests = Number(process.env.BENCH_REST_REQUESTS ?? 3_000);
  const rest = await restFigures(model, pool, requests);
  return {
    batch_rows_per_s: Math.round(b.service.rowsPerS),
    batch_engine: b.service.engine,
    batch_size: batch,
    n_trees: model.trees.length,
    n_leaves: 31,
    n_features: model.featureNames.length,
    onnxruntime_rows_per_s: Math.round(b.ort.rowsPerS),
    batch_1thread_rows_per_s: Math.round(b.ort1.rowsPerS),
    batch_f32_rows_per_s: Math.round(b.ort32.rowsPerS),
    compiled_2threads_rows_per_s: Math.round(b.two.rowsPerS),
    compiled_calling_thread_rows_per_s: Math.round(b.calling.rowsPerS),
    ts_compiled_rows_per_s: Math.round(b.tsCompiled),
    ts_compiled_unordered_rows_per_s: Math.round(b.tsUnordered),
    compiled_ns_per_tree_row: r3(1e9 / b.tsCompiled / model.trees.length),
    ts_predict_margin_rows_per_s: Math.round(b.ts),
    batch_max_abs_diff: b.maxDiff,
    rest_one_row_p50_ms: r3(rest.p50),
    rest_one_row_p99_ms: r3(rest.p99),
    rest_one_row_max_ms: r3(rest.max),
    rest_requests: requests,
  };
}

if (require.main === module) {
  measureSignalsScoring().then(
    (f) =>
      process.stdout.write(
        `${JSON.stringify({
          bench: 'signals-scoring',
          ...f,
          targets: {
            batch_rows_per_s: 2_000_000,
            rest_one_row_p99_ms: 5,
            met: f.batch_rows_per_s >= 2_000_000 && f.rest_one_row_p99_ms <= 5,
          },
          ratios: {
            batch_vs_onnxruntime: r3(f.batch_rows_per_s / f.onnxruntime_rows_per_s),
            ts_compiled_vs_unordered: r3(f.ts_compiled_rows_per_s / f.ts_compiled_unordered_rows_per_s),
          },
          machine: { cpus: cpus().length, node: process.version, loadavg_1m: r3(loadavg()[0]) },
        })}\n`,
      ),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
