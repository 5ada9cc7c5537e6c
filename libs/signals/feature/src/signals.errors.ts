import { type ModelAlias, type ModelStatus } from '@strata/signals-contracts';
import type { ModelProblem } from './signals.ports';

/** No such model version or alias holder (HTTP 404). */
export class ModelNotFoundError extends Error {
  constructor(ref: string) {
    super(`no model ${ref}`);
    this.name = 'ModelNotFoundError';
  }
}

/** The model version cannot serve the request in its state (HTTP 409), e.g. promoting or scoring a queued model. */
export class ModelNotReadyError extends Error {
  constructor(
    id: string,
    readonly status: ModelStatus,
    /** Why a failed model failed (e.g. `leakage_detected`). */
    readonly reason?: string,
  ) {
    super(`model ${id} is ${status}${reason ? ` (${reason})` : ''}: only completed models can be promoted or score`);
    this.name = 'ModelNotReadyError';
  }
}

/** The alias points at no model (HTTP 404). */
export class AliasUnsetError extends Error {
  constructor(readonly alias: ModelAlias) {
    super(`alias ${alias} points at no model; promote one with POST /signals/models/{id}/aliases/${alias}`);
    this.name = 'AliasUnsetError';
  }
}

/** A model (import) does not fit the feature-set version (HTTP 422), with every problem found. */
export class ModelRejectedError extends Error {
  constructor(readonly problems: ModelProblem[]) {
    super(`the model does not fit the feature set: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`);
    this.name = 'ModelRejectedError';
  }
}

/** Bad score input (HTTP 400), with the field and reason of each problem. */
export class ScoreInputError extends Error {
  constructor(readonly problems: { field: string; reason: string; message: string }[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.name = 'ScoreInputError';
  }
}

/** Explanations are not available for this model (HTTP 422): not a tree ensemble TreeSHAP can walk, or no covers. */
export class ExplanationUnavailableError extends Error {
  constructor(reason: string) {
    super(`no explanation for this model: ${reason}`);
    this.name = 'ExplanationUnavailableError';
  }
}

/** Unknown feature set or version (HTTP 404), or no stored features for a series (HTTP 404). */
export class SignalDataNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignalDataNotFoundError';
  }
}
