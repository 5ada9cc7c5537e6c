/*
 * A portfolio of backtests: member equity curves combined on a common daily calendar (the union of the members' UTC
 * days). A member without a bar on a day holds cash that day (return 0), also before its first and after its last bar.
 * Rebalancing: `none` lets the weights drift (buy and hold), `daily` restores them after every day's close, `monthly`
 * after the last calendar day of each month.
 */

/** When the target weights are restored. */
export type PortfolioRebalance = 'none' | 'daily' | 'monthly';

/** One member: its equity curve (ts epoch ms UTC, ascending) and its target weight (> 0). */
export interface PortfolioMemberCurve {
  ts: ArrayLike<number>;
  equity: ArrayLike<number>;
  weight: number;
}

/** The combined curve: one instant per calendar day, equity starting at 1. */
export interface PortfolioCurve {
  /** Day instants (epoch ms of the last member bar of each UTC day). */
  ts: Float64Array;
  /** Portfolio value, 1 on the first day. */
  equity: Float64Array;
  /** Day returns, r[0] = 0 (nothing held before the first day). */
  returns: Float64Array;
}

const DAY_MS = 86_400_000;

/** Per member, its simple return on each calendar day (0 when it has no bar that day). */
function memberDayReturns(m: PortfolioMemberCurve, dayIndex: Map<number, number>, days: number): Float64Array {
  const r = new Float64Array(days);
  // The member's close of each of its days: its last point that day.
  let prevClose = NaN;
  for (let i = 0; i < m.ts.length; i++) {
    const day = Math.floor(m.ts[i] / DAY_MS);
    const last = i + 1 >= m.ts.length || Math.floor(m.ts[i + 1] / DAY_MS) !== day;
    if (!last) continue;
    if (Number.isFinite(prevClose)) r[dayIndex.get(day)!] = m.equity[i] / prevClose - 1;
    prevClose = m.equity[i];
  }
  return r;
}

/**
 * Combines member curves into one portfolio curve; weights are normalised to sum 1.
 * @throws Error when there is no member, a weight is not positive or a curve is empty.
 */
export function aggregatePortfolio(
  members: readonly PortfolioMemberCurve[],
  rebalance: PortfolioRebalance,
): PortfolioCurve {
  if (members.length === 0) throw new Error('a portfolio needs at least one member');
  const dayLast = new Map<number, number>();
  for (const m of members) {
    if (!(m.weight > 0)) throw new Error('member weights must be positive');
    if (m.ts.length === 0) throw new Error('a member has an empty equity curve');
    for (let i = 0; i < m.ts.length; i++) {
      const day = Math.floor(m.ts[i] / DAY_MS);
      dayLast.set(day, Math.max(dayLast.get(day) ?? -Infinity, m.ts[i]));
    }
  }
  const dayKeys = [...dayLast.keys()].sort((a, b) => a - b);
  const dayIndex = new Map(dayKeys.map((d, i) => [d, i]));
  const n = dayKeys.length;
  const total = members.reduce((s, m) => s + m.weight, 0);
  const target = members.map((m) => m.weight / total);
  const memberReturns = members.map((m) => memberDayReturns(m, dayIndex, n));
  const holdings = Float64Array.from(target);
  const ts = Float64Array.from(dayKeys, (d) => dayLast.get(d)!);
  const equity = new Float64Array(n);
  const returns = new Float64Array(n);
  let value = 1;
  equity[0] = 1;
  for (let t = 1; t < n; t++) {
    let next = 0;
    for (let k = 0; k < holdings.length; k++) {
      holdings[k] *= 1 + memberReturns[k][t];
      next += holdings[k];
    }
    returns[t] = next / value - 1;
    value = next;
    equity[t] = value;
    const monthEnd =
      t + 1 < n && new Date(dayKeys[t] * DAY_MS).getUTCMonth() !== new Date(dayKeys[t + 1] * DAY_MS).getUTCMonth();
    if (rebalance === 'daily' || (rebalance === 'monthly' && monthEnd))
      for (let k = 0; k < holdings.length; k++) holdings[k] = target[k] * value;
  }
  return { ts, equity, returns };
}
