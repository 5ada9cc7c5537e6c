import { type TreeEnsemble } from '@strata/signals-domain';
import { exportTreeEnsembleToOnnx, type OnnxExportOptions } from './onnx-tree.export';
import { importOnnxTreeModel, type OnnxImportExpectation, type OnnxImportResult } from './onnx-tree.import';
import { OnnxTreeScorer, type OnnxScorerOptions } from './onnx-tree.scorer';

/** Options of {@link OnnxModelRuntime}. */
export interface OnnxModelRuntimeOptions extends OnnxScorerOptions {
  /** Open sessions kept (least recently used closed first; default 16). */
  maxSessions?: number;
}

/**
 * The ONNX side of the signals service in one object (it implements the `SignalModelRuntime` port of
 * `@strata/signals-feature`): export of tree ensembles, import checks of external models, and scorers
 * ({@link OnnxTreeScorer}: the compiled ensemble decoded from the ONNX bytes, or an onnxruntime session) cached per
 * model version (key = model id + artifact hash), so a score request never re-parses a model. A scorer being opened
 * is shared by concurrent requests for the same key.
 */
export class OnnxModelRuntime {
  private readonly sessions = new Map<string, Promise<OnnxTreeScorer>>();
  private readonly maxSessions: number;

  constructor(private readonly opts: OnnxModelRuntimeOptions = {}) {
    this.maxSessions = opts.maxSessions ?? 16;
  }

  /** See {@link exportTreeEnsembleToOnnx}. */
  exportModel(model: TreeEnsemble, opts: OnnxExportOptions): Uint8Array {
    return exportTreeEnsembleToOnnx(model, opts);
  }

  /** See {@link importOnnxTreeModel}. */
  inspect(bytes: Uint8Array, expect: OnnxImportExpectation): OnnxImportResult {
    return importOnnxTreeModel(bytes, expect);
  }

  /**
   * The cached scorer of `key`, opening it from `load()` on first use. The model must be accepted by
   * `importOnnxTreeModel` against `expect`, else this rejects with the problems.
   */
  scorer(key: string, load: () => Promise<Uint8Array>, expect: OnnxImportExpectation): Promise<OnnxTreeScorer> {
    const hit = this.sessions.get(key);
    if (hit) {
      // Refresh recency (Map iteration order is insertion order).
      this.sessions.delete(key);
      this.sessions.set(key, hit);
      return hit;
    }
    const opening = (async () => {
      const bytes = await load();
      const res = importOnnxTreeModel(bytes, expect);
      if (!res.ok)
        throw new Error(
          `model ${key} does not fit its feature set: ${res.problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`,
        );
      return OnnxTreeScorer.create(bytes, res.info, this.opts);
    })();
    this.sessions.set(key, opening);
    opening.catch(() => this.sessions.delete(key));
    while (this.sessions.size > this.maxSessions) {
      const [oldest, s] = this.sessions.entries().next().value as [string, Promise<OnnxTreeScorer>];
      this.sessions.delete(oldest);
      void s.then((x) => x.close()).catch(() => undefined);
    }
    return opening;
  }

  /** Closes every open session. */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.then((x) => x.close()).catch(() => undefined);
  }
}
