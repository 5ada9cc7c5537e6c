/** Injection token of the train worker's `SignalsWorkerOptions`. */
export const SIGNALS_WORKER_OPTIONS = Symbol('SIGNALS_WORKER_OPTIONS');
