"""Peer of bench/backtest.bench.ts: the same SMA-crossover-with-costs backtest, vectorised with numpy (and vectorbt
when it is installed).

Semantics (identical to the Strata run it is compared with): fast/slow simple moving averages of the close (NaN
warm-up); a long entry is decided at the close of bar t when fast crosses above slow (fast[t] > slow[t] and
fast[t-1] <= slow[t-1]), an exit when it crosses below; the order fills at the open of t+1 moved by `slip` against the
order, pays `comm` x notional; the entry buys `fraction` x equity / close[t] shares (fractional shares); equity is marked
at each close. A decision at the last bar is not filled.

Reads little-endian float64 files <dir>/open.f64 and <dir>/close.f64 (written by the bench).
Prints one JSON object: wall and process-CPU ms per run (median, best), bars/s, final equity, and the same for a
parameter sweep over the first `sweep_bars` bars (one Python loop over the combinations, numpy inside).

Usage: backtest_peer.py <dir> <runs> <fast> <slow> <comm> <slip> <fraction> <init_cash> <sweep_bars> <sweep_fast_csv> <sweep_slow_csv>
"""
import json
import statistics
import sys
import time

import numpy as np


def sma(x, n):
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.full(x.shape, np.nan)
    out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def backtest(o, c, fast, slow, comm, slip, fraction, cash0, curve=True):
    f = sma(c, fast)
    s = sma(c, slow)
    pf = np.r_[np.nan, f[:-1]]
    ps = np.r_[np.nan, s[:-1]]
    up = (f > s) & (pf <= ps)
    dn = (f < s) & (pf >= ps)
    # Desired state after each close: 1 after an up-cross until a down-cross (forward fill of the last event).
    ev = np.where(up, 1, np.where(dn, 0, -1))
    idx = np.where(ev >= 0, np.arange(len(c)), 0)
    np.maximum.accumulate(idx, out=idx)
    state = np.where(ev[idx] >= 0, ev[idx], 0)
    state[0] = 0 if ev[0] < 0 else ev[0]
    d = np.diff(np.r_[0, state])
    entries = np.flatnonzero(d == 1)
    exits = np.flatnonzero(d == -1)
    n = len(c)
    # Only decisions that can fill (not at the last bar).
    entries = entries[entries < n - 1]
    exits = exits[exits < n - 1]
    k = min(len(entries), len(exits))
    open_trade = len(entries) > k
    buy = o[entries + 1] * (1 + slip)
    sell = o[exits[:k] + 1] * (1 - slip)
    # Cash after each completed trade: C <- C * (1 + fraction / close_e * (sell (1 - comm) - buy (1 + comm))).
    growth = 1 + fraction / c[entries[:k]] * (sell * (1 - comm) - buy[:k] * (1 + comm))
    cash_after = cash0 * np.cumprod(growth)
    cash_before = np.r_[cash0, cash_after]  # cash before trade i
    shares = fraction * cash_before[: len(entries)] / c[entries]
    if not curve:
        if open_trade:
            i = len(entries) - 1
            cb = cash_before[i] - shares[i] * buy[i] * (1 + comm)
            return cb + shares[i] * c[-1], len(entries)
        return cash_before[k], len(entries)
    # Equity curve: per bar, the trade in force (entry filled at e+1 .. exit filled at x+1, exclusive).
    fill_in = np.zeros(n, dtype=np.int64)
    fill_in[entries + 1] += 1
    fill_out = np.zeros(n, dtype=np.int64)
    fill_out[exits[:k] + 1] += 1
    held = np.cumsum(fill_in) - np.cumsum(fill_out)
    tid = np.cumsum(fill_in) - 1
    tid_c = np.clip(tid, 0, max(len(entries) - 1, 0))
    cash_in_trade = cash_before[tid_c] - shares[tid_c] * buy[tid_c] * (1 + comm) if len(entries) else np.full(n, cash0)
    # Flat bars: cash after the last completed trade.
    done = np.cumsum(fill_out)
    flat_cash = cash_before[np.clip(done, 0, k)]
    equity = np.where(held > 0, cash_in_trade + (shares[tid_c] if len(entries) else 0) * c, flat_cash)
    return equity[-1], len(entries)


def timed(fn, runs):
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        cpus.append((time.process_time() - c0) * 1000)
        walls.append((time.perf_counter() - w0) * 1000)
    return walls, cpus, out


def main():
    d, runs, fast, slow, comm, slip, fraction, cash0, sweep_bars, sf, ss = sys.argv[1:12]
    runs, fast, slow, sweep_bars = int(runs), int(fast), int(slow), int(sweep_bars)
    comm, slip, fraction, cash0 = float(comm), float(slip), float(fraction), float(cash0)
    o = np.fromfile(f"{d}/open.f64", dtype="<f8")
    c = np.fromfile(f"{d}/close.f64", dtype="<f8")
    sweep_fast = [int(x) for x in sf.split(",")]
    sweep_slow = [int(x) for x in ss.split(",")]
    n = len(c)
    out = {"name": "numpy", "version": np.__version__, "bars": n}
    walls, cpus, (final, trades) = timed(lambda: backtest(o, c, fast, slow, comm, slip, fraction, cash0), runs)
    out.update(
        ms_median=statistics.median(walls),
        ms_best=min(walls),
        cpu_ms_median=statistics.median(cpus),
        bars_per_s=n / (statistics.median(walls) / 1000),
        bars_per_s_best=n / (min(walls) / 1000),
        final_equity=final,
        trades=trades,
    )
    so, sc = o[:sweep_bars].copy(), c[:sweep_bars].copy()
    combos = [(a, b) for a in sweep_fast for b in sweep_slow]

    def sweep():
        best = -1.0
        for a, b in combos:
            fe, _ = backtest(so, sc, a, b, comm, slip, fraction, cash0)
            best = max(best, fe)
        return best

    w, cp, best = timed(sweep, max(1, min(3, runs)))
    out["sweep"] = {
        "combinations": len(combos),
        "bars": sweep_bars,
        "ms_median": statistics.median(w),
        "cpu_ms_median": statistics.median(cp),
        "backtests_per_s": len(combos) / (statistics.median(w) / 1000),
        "best_final_equity": best,
    }
    try:
        import pandas as pd
        import vectorbt as vbt

        def vbt_run():
            close = pd.Series(c)
            f = vbt.MA.run(close, fast, short_name="fast").ma
            s_ = vbt.MA.run(close, slow, short_name="slow").ma
            pf_, ps_ = f.shift(1), s_.shift(1)
            up = ((f > s_) & (pf_ <= ps_)).shift(1, fill_value=False)
            dn = ((f < s_) & (pf_ >= ps_)).shift(1, fill_value=False)
            p = vbt.Portfolio.from_signals(close, up, dn, price=pd.Series(o), size=fraction, size_type="percent", fees=comm, slippage=slip, init_cash=cash0)
            return float(p.final_value())

        vbt_run()  # numba compilation outside the timing
        w, cp, fv = timed(vbt_run, runs)
        out["vectorbt"] = {
            "version": vbt.__version__,
            "ms_median": statistics.median(w),
            "cpu_ms_median": statistics.median(cp),
            "bars_per_s": n / (statistics.median(w) / 1000),
            "final_equity": fv,
        }
    except ImportError as e:  # pragma: no cover - optional peer
        out["vectorbt"] = {"skipped": f"vectorbt not installed ({e.name})"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
