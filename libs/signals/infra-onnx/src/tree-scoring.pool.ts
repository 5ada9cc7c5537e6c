import { type CompileTreeEnsembleOptions, type TreeEnsemble } from '@strata/signals-domain';
import { Worker } from 'node:worker_threads';

/** What a pool worker is told per call: score rows `from..from+n−1` of the shared matrix into the shared margins. */
interface ScoreRequest {
  id: number;
  x: SharedArrayBuffer;
  margins: SharedArrayBuffer;
  from: number;
  n: number;
}

/**
 * The worker's program (plain CommonJS, run with `eval`): compiles the ensemble with `compileTreeEnsemble` of the
 * same `@strata/signals-domain` module the caller uses (from TypeScript sources through @swc-node/register in development
 * and tests, from dist/ in production) and answers each request with its id, or `{ id, error }`.
 */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.register) require(workerData.register);
const { compileTreeEnsemble } = require(workerData.domainMl);
const d = workerData.model.featureNames.length;
const score = compileTreeEnsemble(workerData.model, workerData.compile);
parentPort.on('message', (m) => {
  try {
    score(new Float64Array(m.x, m.from * d * 8, m.n * d), m.n, new Float64Array(m.margins, m.from * 8, m.n));
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.stack || e) });
  }
});
`;

/**
 * Raw margins of a tree ensemble on worker threads: each call's rows are copied once into a SharedArrayBuffer,
 * split evenly across the workers (each runs `compileTreeEnsemble`, so scores equal the calling thread's to the last
 * bit), and the margins read back. Keeps the event loop free while a big batch is scored and uses more than one
 * core; costs a copy of the rows (~0.2 ms per 10,000 × 22) and a message round trip per worker. Calls are served one
 * at a time in arrival order (they share the buffers). Infra only: domain code stays single-threaded.
 */
export class TreeScoringPool {
  private x = new SharedArrayBuffer(0);
  private margins = new SharedArrayBuffer(0);
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly workers: Worker[],
    private readonly nFeatures: number,
  ) {
    for (const w of workers) {
      w.on('message', (m: { id: number; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.reject(new Error(`tree scoring worker: ${m.error}`));
        else p?.resolve();
      });
      // A worker that dies takes the pool with it: pending and later calls reject (the scorer then starts a new pool).
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => this.fail(new Error(`tree scoring worker exited with code ${code}`)));
      w.unref();
    }
  }

  /** Starts `threads` (≥ 1) workers, each compiling `model` (a structured clone of its typed arrays). */
  static create(model: TreeEnsemble, threads: number, compile: CompileTreeEnsembleOptions = {}): TreeScoringPool {
    if (!(threads >= 1)) throw new RangeError(`threads must be at least 1, got ${threads}`);
    const domainMl = require.resolve('@strata/signals-domain');
    const register = domainMl.endsWith('.ts') ? require.resolve('@swc-node/register') : null;
    const workerData = { domainMl, register, model, compile };
    const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true, workerData }));
    return new TreeScoringPool(workers, model.featureNames.length);
  }

  /** Worker threads in the pool. */
  get threads(): number {
    return this.workers.length;
  }

  /**
   * Raw margins of `nRows` row-major rows of `X` into `out` (allocated when absent).
   * @throws RangeError when `X` is too short; rejects when the pool is closed or a worker fails.
   */
  margin(
    X: Float64Array | Float32Array,
    nRows: number,
    out: Float64Array = new Float64Array(nRows),
  ): Promise<Float64Array> {
    const len = nRows * this.nFeatures;
    if (X.length < len)
      throw new RangeError(`expected ${len} values for ${nRows} rows × ${this.nFeatures} features, got ${X.length}`);
    const run = this.queue.then(() => this.run(X, nRows, len, out));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(
    X: Float64Array | Float32Array,
    nRows: number,
    len: number,
    out: Float64Array,
  ): Promise<Float64Array> {
    if (this.closed) throw new Error('tree scoring pool is closed');
    if (nRows === 0) return out;
    if (this.x.byteLength < len * 8) {
      this.x = new SharedArrayBuffer(len * 8);
      this.margins = new SharedArrayBuffer(nRows * 8);
    }
    new Float64Array(this.x, 0, len).set(X.length === len ? X : X.subarray(0, len));
    const per = Math.ceil(nRows / this.workers.length);
    const calls: Promise<void>[] = [];
    for (let k = 0, from = 0; k < this.workers.length && from < nRows; k++, from += per) {
      const id = ++this.nextId;
      calls.push(new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject })));
      const req: ScoreRequest = { id, x: this.x, margins: this.margins, from, n: Math.min(per, nRows - from) };
      this.workers[k].postMessage(req);
    }
    // Referenced only while a call is pending: an idle pool must not keep the process alive, a busy one must.
    for (const w of this.workers) w.ref();
    try {
      await Promise.all(calls);
    } finally {
      for (const w of this.workers) w.unref();
    }
    out.set(new Float64Array(this.margins, 0, nRows));
    return out;
  }

  /** False once a worker failed or the pool was closed: every call rejects from then on. */
  get usable(): boolean {
    return !this.closed;
  }

  private fail(e: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Stops the workers; pending calls reject. */
  async close(): Promise<void> {
    this.fail(new Error('tree scoring pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
