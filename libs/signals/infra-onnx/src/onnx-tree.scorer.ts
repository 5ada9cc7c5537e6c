import { compileTreeEnsemble, type CompiledEnsemble } from '@strata/signals-domain';
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { OnnxTreeModelInfo } from './onnx-tree.import';
import { TreeScoringPool } from './tree-scoring.pool';

/** Options of {@link OnnxTreeScorer.create}. */
export interface OnnxScorerOptions {
  /** Threads onnxruntime may use inside one `run` (default 0 = onnxruntime's choice, one per core). */
  intraOpNumThreads?: number;
  /**
   * Calls with at most this many rows (default 256; 0 = never) are scored on the calling thread by the tree ensemble
   * decoded from the same ONNX bytes and compiled to JavaScript (`compileTreeEnsemble`): a hop to a native or worker
   * thread and back, not the trees, is a one-row request's tail latency (onnxruntime: p99 8.5 ms against 0.1 ms
   * measured on a loaded 2-core machine). A model whose ensemble cannot be decoded uses a second, single-threaded
   * onnxruntime session instead.
   */
  smallBatchRows?: number;
  /**
   * Engine of the bigger calls (default `compiled`): `compiled` = the decoded ensemble compiled to JavaScript
   * (`compileTreeEnsemble`: rows scored in branch-predictable order) on {@link batchThreads} worker threads, 4–7×
   * onnxruntime-node's double-input run (default or one intra-op thread) on the bench model in the same run
   * (bench:signals, 10,000-row batches); `onnxruntime` = the ONNX session. Models whose ensemble cannot be decoded
   * always use onnxruntime. Both give the same scores to 1e-6 (tested).
   */
  batchEngine?: 'compiled' | 'onnxruntime';
  /**
   * Worker threads a `compiled` batch is split across (default {@link defaultBatchThreads}: one per core; 0 = the
   * calling thread, blocking it for the batch). Workers keep the event loop free while a big batch is scored; two on
   * an idle 2-CPU machine score ~1.4× one (bench:signals), but more threads pay only on idle cores (on a loaded
   * machine two were slower than one) and each costs ~20 % more CPU per row (every worker sorts its own share). The
   * pool starts at the first batch.
   */
  batchThreads?: number;
}

/** Default worker threads of compiled batches: one per core the process may use (`os.availableParallelism()`), at most 4. */
export function defaultBatchThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Which engine scores a call of a given size (for benchmarks and logs). */
export type OnnxScorerEngine = 'compiled-js' | `compiled-js-workers-${number}` | 'onnxruntime' | 'onnxruntime-1thread';

/**
 * Scores rows with one ONNX tree model (see {@link OnnxScorerOptions} for which engine runs a call). Input rows are
 * row-major (`nFeatures` columns, NaN = missing) as Float64Array or Float32Array; they are converted to the model's
 * input type only when they differ (one reusable buffer, no per-row allocation). Output: probability of class 1
 * (binary) or the prediction (regression), one per row, as Float64Array. Safe to call concurrently (onnxruntime
 * serialises nothing for CPU sessions and each call has its own tensors; worker calls are queued).
 */
export class OnnxTreeScorer {
  private convert: Float32Array | Float64Array | null = null;
  private pool: TreeScoringPool | null = null;
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession | null,
    private readonly small: ort.InferenceSession | null,
    private readonly compiled: CompiledEnsemble | null,
    /** Worker threads of compiled batches (0 = none); the pool starts at the first batch. */
    private readonly poolThreads: number,
    private readonly smallBatchRows: number,
    /** What the importer learnt about the model (objective, input, score output). */
    readonly info: OnnxTreeModelInfo,
  ) {}

  /** Opens the engines on the model bytes (already accepted by `importOnnxTreeModel`). */
  static async create(
    bytes: Uint8Array,
    info: OnnxTreeModelInfo,
    opts: OnnxScorerOptions = {},
  ): Promise<OnnxTreeScorer> {
    const threads = opts.intraOpNumThreads ?? 0;
    const open = (intraOpNumThreads: number) =>
      ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads,
        interOpNumThreads: 1,
        logSeverityLevel: 3,
      });
    const smallBatchRows = opts.smallBatchRows ?? 256;
    const compiledBatches = info.ensemble !== null && (opts.batchEngine ?? 'compiled') === 'compiled';
    const batchThreads = opts.batchThreads ?? defaultBatchThreads();
    const compiled =
      info.ensemble && (smallBatchRows > 0 || (compiledBatches && batchThreads === 0))
        ? compileTreeEnsemble(info.ensemble)
        : null;
    const session = compiledBatches ? null : await open(threads);
    const small = !compiled && threads !== 1 && smallBatchRows > 0 ? await open(1) : null;
    return new OnnxTreeScorer(session, small, compiled, compiledBatches ? batchThreads : 0, smallBatchRows, info);
  }

  /** The engine that scores a call of `nRows` rows. */
  engineFor(nRows: number): OnnxScorerEngine {
    if (nRows <= this.smallBatchRows)
      return this.compiled ? 'compiled-js' : this.small ? 'onnxruntime-1thread' : 'onnxruntime';
    if (this.poolThreads > 0) return `compiled-js-workers-${this.poolThreads}`;
    return this.session ? 'onnxruntime' : 'compiled-js';
  }

  /** Input columns the model expects. */
  get nFeatures(): number {
    return this.info.nFeatures;
  }

  /**
   * Scores `nRows` rows of `X` (row-major, at least `nRows × nFeatures` values) into `out` (allocated when absent).
   * @throws RangeError when `X` is too short.
   */
  async score(
    X: Float64Array | Float32Array,
    nRows: number,
    out: Float64Array = new Float64Array(nRows),
  ): Promise<Float64Array> {
    const d = this.info.nFeatures;
    const len = nRows * d;
    if (X.length < len)
      throw new RangeError(`expected ${len} values for ${nRows} rows × ${d} features, got ${X.length}`);
    if (nRows === 0) return out;
    if (this.poolThreads > 0 && nRows > this.smallBatchRows) {
      if (this.closed) throw new Error('the scorer is closed');
      if (!this.pool?.usable) this.pool = TreeScoringPool.create(this.info.ensemble!, this.poolThreads);
      return this.probabilities(await this.pool.margin(this.compiledInput(X, len), nRows, out), nRows);
    }
    if (this.compiled && (nRows <= this.smallBatchRows || !this.session)) return this.scoreCompiled(X, nRows, out);
    const wantF64 = this.info.inputType === 'float64';
    let input: Float32Array | Float64Array;
    if (wantF64 === X instanceof Float64Array) input = X.length === len ? X : X.subarray(0, len);
    else {
      // Sequential calls reuse one conversion buffer; concurrent ones would race on it, so they get their own.
      const buf =
        this.convert && this.convert.length >= len
          ? this.convert
          : wantF64
            ? new Float64Array(len)
            : new Float32Array(len);
      this.convert = null;
      for (let i = 0; i < len; i++) buf[i] = X[i];
      input = buf.length === len ? buf : buf.subarray(0, len);
      try {
        return await this.run(input, nRows, out);
      } finally {
        this.convert = buf;
      }
    }
    return this.run(input, nRows, out);
  }

  private async run(input: Float32Array | Float64Array, nRows: number, out: Float64Array): Promise<Float64Array> {
    const d = this.info.nFeatures;
    const tensor = new ort.Tensor(input instanceof Float64Array ? 'float64' : 'float32', input, [nRows, d]);
    const { name, column, width } = this.info.scoreOutput;
    const session = this.small && nRows <= this.smallBatchRows ? this.small : this.session!;
    const res = await session.run({ [this.info.inputName]: tensor }, [name]);
    const data = res[name].data as Float32Array | Float64Array;
    for (let r = 0; r < nRows; r++) out[r] = data[r * width + column];
    for (const t of Object.values(res)) t.dispose();
    return out;
  }

  private scoreCompiled(X: Float64Array | Float32Array, nRows: number, out: Float64Array): Float64Array {
    this.compiled!(this.compiledInput(X, nRows * this.info.nFeatures), nRows, out);
    return this.probabilities(out, nRows);
  }

  /**
   * The rows as the decoded ensemble must see them: doubles, rounded to float32 first when the model's input is
   * float32 (onnxruntime compares the float32 value with the float32 thresholds; the double could fall on the other
   * side of a threshold it rounds to).
   */
  private compiledInput(X: Float64Array | Float32Array, len: number): Float64Array {
    if (this.info.inputType === 'float32' && X instanceof Float64Array)
      return Float64Array.from(Float32Array.from(X.subarray(0, len)));
    return X instanceof Float64Array ? X : Float64Array.from(X.subarray(0, len));
  }

  /** Margins → probabilities in place for binary models. */
  private probabilities(out: Float64Array, nRows: number): Float64Array {
    if (this.info.ensemble!.objective === 'binary')
      for (let r = 0; r < nRows; r++) out[r] = 1 / (1 + Math.exp(-out[r]));
    return out;
  }

  /** Releases the native sessions and stops the worker threads. */
  async close(): Promise<void> {
    await this.session?.release();
    await this.small?.release();
    const pool = this.pool;
    this.closed = true;
    this.pool = null;
    await pool?.close();
  }
}
