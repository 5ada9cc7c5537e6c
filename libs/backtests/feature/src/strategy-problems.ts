import { DocumentStoreError } from '@strata/platform-contracts';
import { ProblemException, problemType } from '@strata/platform-http';
import { InvalidStrategyError, StrategyNotFoundError, StrategyVersionConflictError } from './strategies.service';

/**
 * Maps strategy and store errors to problem+json: an invalid definition is 422 `invalid-strategy` with one item per
 * issue (`field` = `body.definition.<path>`, `reason` = the issue code, e.g. `future_reference`, `unknown_feature`);
 * not found 404; version conflicts 409; store errors with their status. Anything else is rethrown as is.
 */
export function strategyProblem(err: unknown, fieldPrefix = 'body.definition'): unknown {
  if (err instanceof InvalidStrategyError) {
    return new ProblemException({
      type: problemType('invalid-strategy'),
      title: 'Invalid strategy definition',
      status: 422,
      detail: err.message,
      errors: err.issues.map((i) => ({ field: `${fieldPrefix}.${i.path}`, reason: i.reason, message: i.message })),
    });
  }
  if (err instanceof StrategyNotFoundError) return ProblemException.notFound(err.message);
  if (err instanceof StrategyVersionConflictError) {
    return new ProblemException({
      type: problemType('version-conflict'),
      status: 409,
      detail: err.message,
      latestVersion: err.latestVersion,
    });
  }
  if (err instanceof DocumentStoreError && err.httpStatus < 500) {
    return new ProblemException({
      type: problemType(err.code.replace(/_/g, '-')),
      status: err.httpStatus,
      detail: err.message,
    });
  }
  return err;
}
