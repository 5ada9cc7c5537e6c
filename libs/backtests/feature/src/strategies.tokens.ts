/** Injection token of the `StrategyCatalog` (feature sets, signals, regimes a strategy may reference). */
export const STRATEGY_CATALOG = Symbol('STRATEGY_CATALOG');
