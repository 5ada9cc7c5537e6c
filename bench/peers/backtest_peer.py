"""Peer of bench/backtest.bench.ts: the same SMA-crossover-with-costs backtest, vectorised with numpy (and vectorbt
when it is installed).

Semantics (identical to the Strata run it is compared with): fast/slow simple moving averages of the close (NaN
warm-up); a long entry is decided at the close of bar t when fast crosses above slow (fast[t] > slow[t] and
fast[t-1] <= slow[t-1]), an exit when it crosses below; the order fills at the open of t+1 moved by `slip` against the
order, pays `comm` x notional; the entry buys `fraction` x equity / close[t] shares (fractional shares); equity is marked
at each close. A decision at the last bar is not filled.

Same rule as the bench (bench/README.md): distinct input for each repetition, medians of the runs, the same work
timed. The bench writes <dir>/open.f64, <dir>/close.f64 (little-endian float64): `count` series of `bars` bars one
after the other, series 0 being the warm-up (for vectorbt, the call that compiles with numba, reported apart), series
r the input of run r; <dir>/sweep_open.f64 and <dir>/sweep_close.f64 likewise with `sweep_bars` bars.

The sweep shares the moving averages between combinations through a per-run cache, as ours does (SeriesCache), and
picks the combination with the best Sharpe ratio of the daily equity returns (sample std, x sqrt(252)), as ours does.
vectorbt's timing starts from pandas Series built before the clock starts, like ours starts from typed arrays.

Protocol: prints {"ready": true, versions} once the data is loaded, then answers each stdin line "<op> <i>" (op: single,
sweep, vectorbt; i: the series) with one JSON line {"wall_ms", "cpu_ms", outputs}; the bench sends them between its own
runs (interleaved) and computes the medians. vectorbt's first call (series 0) includes numba's compilation.

Usage: backtest_peer.py <dir> <count> <fast> <slow> <comm> <slip> <fraction> <init_cash> <bars> <sweep_bars> <sweep_fast_csv> <sweep_slow_csv>
"""
import json
import sys
import time

import numpy as np


def sma(x, n):
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.full(x.shape, np.nan)
    out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def backtest(o, c, fast, slow, comm, slip, fraction, cash0, curve=True, cache=None):
    """Final equity and number of entries; with `curve`, also the equity curve. `cache` maps a period to its SMA."""
    if cache is None:
        f, s = sma(c, fast), sma(c, slow)
    else:
        f = cache.get(fast)
        if f is None:
            f = cache[fast] = sma(c, fast)
        s = cache.get(slow)
        if s is None:
            s = cache[slow] = sma(c, slow)
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
            return cb + shares[i] * c[-1], len(entries), None
        return cash_before[k], len(entries), None
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
    return equity[-1], len(entries), equity


def sharpe(equity, periods=252):
    r = equity[1:] / equity[:-1] - 1
    sd = r.std(ddof=1)
    return float(r.mean() / sd * np.sqrt(periods)) if sd > 0 else float("-inf")


def timed(fn, i):
    """Wall and process-CPU ms of `fn(i)`, and its output."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(i)
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000, out


def series(d, name, count, n):
    """`count` series of `n` bars stored one after the other."""
    a = np.fromfile(f"{d}/{name}.f64", dtype="<f8")
    assert len(a) == count * n, f"{name}.f64 holds {len(a)} values, expected {count} x {n}"
    return [a[i * n : (i + 1) * n] for i in range(count)]


def main():
    d, count, fast, slow, comm, slip, fraction, cash0, bars, sweep_bars, sf, ss = sys.argv[1:13]
    count, fast, slow, bars, sweep_bars = int(count), int(fast), int(slow), int(bars), int(sweep_bars)
    comm, slip, fraction, cash0 = float(comm), float(slip), float(fraction), float(cash0)
    opens, closes = series(d, "open", count, bars), series(d, "close", count, bars)
    so, sc = series(d, "sweep_open", count, sweep_bars), series(d, "sweep_close", count, sweep_bars)
    combos = [(a, b) for a in (int(x) for x in sf.split(",")) for b in (int(x) for x in ss.split(","))]

    def single(i):
        # With the equity curve, as ours (which also records orders, fills, trades and KPIs).
        fe, trades, _ = backtest(opens[i], closes[i], fast, slow, comm, slip, fraction, cash0)
        return {"final_equity": fe, "trades": trades}

    def sweep(i):
        cache = {}  # per run, like ours: a new SeriesCache per sweep
        best = (0, 0, float("-inf"))
        for a, b in combos:
            _, _, eq = backtest(so[i], sc[i], a, b, comm, slip, fraction, cash0, cache=cache)
            sr = sharpe(eq)
            if sr > best[2]:
                best = (a, b, sr)
        return {"best": {"fast": best[0], "slow": best[1], "sharpe": best[2]}}

    ops = {"single": single, "sweep": sweep}
    ready = {"ready": True, "numpy": np.__version__}
    try:
        import pandas as pd
        import vectorbt as vbt

        # pandas objects are built before any clock starts (ours starts from typed arrays too).
        frames = [(pd.Series(closes[i]), pd.Series(opens[i])) for i in range(count)]

        def vbt_run(i):
            close, open_ = frames[i]
            f = vbt.MA.run(close, fast, short_name="fast").ma
            s_ = vbt.MA.run(close, slow, short_name="slow").ma
            pf_, ps_ = f.shift(1), s_.shift(1)
            up = ((f > s_) & (pf_ <= ps_)).shift(1, fill_value=False)
            dn = ((f < s_) & (pf_ >= ps_)).shift(1, fill_value=False)
            p = vbt.Portfolio.from_signals(
                close, up, dn, price=open_, size=fraction, size_type="percent", fees=comm, slippage=slip, init_cash=cash0
            )
            return {"final_equity": float(p.final_value())}

        ops["vectorbt"] = vbt_run
        ready["vectorbt"] = vbt.__version__
    except ImportError as e:  # pragma: no cover - optional peer
        ready["vectorbt_skipped"] = f"vectorbt not installed ({e.name})"
    print(json.dumps(ready), flush=True)
    # One command per line from the bench ("single 3", "sweep 3", "vectorbt 0"), one JSON answer per line: the bench
    # interleaves these runs with its own, so both sides see the same machine load.
    for line in sys.stdin:
        op, i = line.split()
        wall, cpu, out = timed(ops[op], int(i))
        print(json.dumps({"wall_ms": wall, "cpu_ms": cpu, **out}), flush=True)


if __name__ == "__main__":
    main()
