/**
 * Typed errors of the Alpha Vantage client. Each carries a stable `code` and renders as an RFC 9457 problem document
 * (`toProblem()`, type `urn:strata:problem:alphavantage-<code>`) so a REST layer can answer with
 * `application/problem+json` without knowing the client. Messages never contain the API key.
 */
export abstract class AlphaVantageError extends Error {
  /** Stable machine-readable code, e.g. `invalid_api_key`. */
  abstract readonly code: string;
  /** HTTP status a gateway should answer with when this error ends a request. */
  abstract readonly status: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The error as a problem document (no `instance`/`requestId`: the HTTP layer fills those in). */
  toProblem(): { type: string; title: string; status: number; detail: string; code: string } {
    return {
      type: `urn:strata:problem:alphavantage-${this.code.replace(/_/g, '-')}`,
      title: this.title(),
      status: this.status,
      detail: this.message,
      code: this.code,
    };
  }

  protected abstract title(): string;
}

/** The API key is missing or rejected (`{"Error Message": "the parameter apikey is invalid or missing ..."}`, or the demo key). Never retried. */
export class AlphaVantageApiKeyError extends AlphaVantageError {
  readonly code = 'invalid_api_key';
  readonly status = 502;
  protected title() {
    return 'Alpha Vantage rejected the API key';
  }
}

/** Alpha Vantage refused the request itself (`{"Error Message": "Invalid API call ..."}`): unknown symbol, bad parameter. Never retried. */
export class AlphaVantageInvalidRequestError extends AlphaVantageError {
  readonly code = 'invalid_request';
  readonly status = 422;
  protected title() {
    return 'Alpha Vantage refused the request';
  }
}

/** The endpoint or parameter needs a premium plan (`{"Information": "... premium endpoint ..."}`). Never retried. */
export class AlphaVantagePremiumError extends AlphaVantageError {
  readonly code = 'premium_required';
  readonly status = 502;
  protected title() {
    return 'Alpha Vantage requires a premium plan for this request';
  }
}

/**
 * Alpha Vantage kept answering with its rate-limit note (`{"Note": ...}` or `{"Information": "... rate limit ..."}`)
 * or HTTP 429 until the retries ran out, or reported its daily quota as exhausted (`scope: 'day'`, not retried: waiting
 * minutes does not help).
 */
export class AlphaVantageRateLimitError extends AlphaVantageError {
  readonly code = 'rate_limited';
  readonly status = 503;
  constructor(
    message: string,
    /** `minute` for the per-minute call frequency, `day` for the daily quota. */
    readonly scope: 'minute' | 'day',
    /** HTTP requests made for this call, including retries. */
    readonly attempts: number,
    /** The provider's note, verbatim. */
    readonly providerNote: string,
  ) {
    super(message);
  }
  protected title() {
    return 'Alpha Vantage rate limit reached';
  }
}

/** The client-side daily budget (`ALPHAVANTAGE_CALLS_PER_DAY`) is spent; no request was sent. `retryAfterMs` says when one frees up. */
export class AlphaVantageQuotaExceededError extends AlphaVantageError {
  readonly code = 'quota_exceeded';
  readonly status = 503;
  constructor(
    message: string,
    /** Milliseconds until the next call is allowed. */
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
  protected title() {
    return 'Alpha Vantage daily call budget spent';
  }
}

/** A non-2xx HTTP answer (5xx after all retries, or a 4xx other than 429) or a network failure after all retries. */
export class AlphaVantageHttpError extends AlphaVantageError {
  readonly code = 'http_error';
  readonly status = 502;
  constructor(
    message: string,
    /** HTTP status received, or 0 for a network failure / timeout. */
    readonly httpStatus: number,
    /** HTTP requests made for this call, including retries. */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  protected title() {
    return 'Alpha Vantage request failed';
  }
}

/** The body was not the documented JSON shape (not JSON, no "Meta Data", no time series, unknown time zone). Never retried. */
export class AlphaVantageResponseError extends AlphaVantageError {
  readonly code = 'unexpected_response';
  readonly status = 502;
  protected title() {
    return 'Alpha Vantage answered in an unexpected format';
  }
}
