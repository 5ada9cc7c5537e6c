import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type RegimeFitOptions, type RegimeModel } from '@strata/regime-domain';
import { Worker } from 'node:worker_threads';
import { loadModel, storeModel } from './regime.repository';

/**
 * The worker's program (plain CommonJS, run with `eval`, as the signals tree-scoring pool does): loads
 * `fitRegimeModel` from the same `@strata/regime-domain` module the caller uses (from TypeScript sources through
 * @swc-node/register in development and tests, from dist/ in production) and answers each request with its id and
 * the model, or `{ id, error, name }`.
 */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.register) require(workerData.register);
const { fitRegimeModel } = require(workerData.domain);
parentPort.on('message', (m) => {
  try {
    parentPort.postMessage({ id: m.id, model: fitRegimeModel(m.close, m.opts, m.previous) });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e), name: e && e.name });
  }
});
`;

interface Pending {
  resolve: (m: RegimeModel) => void;
  reject: (e: Error) => void;
}

/**
 * Runs {@link fitRegimeModel} on a worker thread, so a fit (~0.6–0.9 s on 2.5k–5k bars) never stalls the event loop
 * (HTTP, bus heartbeats) of the process it runs in. One worker, started on the first fit and kept (referenced only
 * while a fit is pending, so an idle one never keeps the process alive); fits queue on it in arrival order. The model
 * comes back by structured clone (plain data and Float64Arrays), equal to a fit on the calling thread. A worker that
 * dies rejects its pending fits and is replaced on the next one.
 */
@Injectable()
export class RegimeFitWorker implements OnModuleDestroy {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** Fits `close` (oldest first) as {@link fitRegimeModel} does; rejects with its error (RangeError kept). */
  fit(close: ArrayLike<number>, opts: RegimeFitOptions, previous?: RegimeModel): Promise<RegimeModel> {
    const w = this.worker ?? this.start();
    const id = ++this.nextId;
    const done = new Promise<RegimeModel>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    w.postMessage({ id, close: Float64Array.from(close), opts, previous });
    w.ref();
    return done;
  }

  private start(): Worker {
    const domain = require.resolve('@strata/regime-domain');
    const register = domain.endsWith('.ts') ? require.resolve('@swc-node/register') : null;
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { domain, register } });
    w.on('message', (m: { id: number; model?: RegimeModel; error?: string; name?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (!p) return;
      if (m.error !== undefined) p.reject(m.name === 'RangeError' ? new RangeError(m.error) : new Error(m.error));
      // Rebuilt in the caller's realm: a structured clone lands in the main realm, which under jest's sandbox is not the
      // test's (its plain objects then fail the document stores' plain-object checks).
      else p.resolve(loadModel(JSON.parse(JSON.stringify(storeModel(m.model!)))));
    });
    w.on('error', (e) => this.fail(w, e));
    w.on('exit', (code) => this.fail(w, new Error(`regime fit worker exited with code ${code}`)));
    w.unref();
    this.worker = w;
    return w;
  }

  private fail(w: Worker, e: Error): void {
    if (this.worker !== w) return;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Stops the worker; pending fits reject. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.fail(w, new Error('regime fit worker closed'));
    await w.terminate();
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }
}
