"""TA-Lib peer of bench/indicators.bench.ts.

Reads bars written by the bench as raw little-endian float64 files (<dir>/in_<col>.f64), computes the
`core` v1 features with TA-Lib (plus numpy for the few features TA-Lib has no function for), times it,
writes each feature to <dir>/out_<name>.f64 and prints one JSON object with the timings (wall and
process CPU time per run; numpy may use more than one thread, which process CPU time counts).

Usage: bench/peers/.venv/bin/python bench/peers/talib_features.py <dir> <runs> <bars_per_year>
"""
import json
import sys
import time

import numpy as np
import talib
from numpy.lib.stride_tricks import sliding_window_view


def load(d, k):
    return np.fromfile(f"{d}/in_{k}.f64", dtype="<f8")


def talib_part(h, l, c, v):
    """Everything TA-Lib computes directly (16 of the 22 columns' underlying functions)."""
    r = {}
    r["ret_1"] = talib.ROCR(c, 1) - 1
    r["ret_5"] = talib.ROCR(c, 5) - 1
    r["ret_20"] = talib.ROCR(c, 20) - 1
    r["sma_20_ratio"] = c / talib.SMA(c, 20) - 1
    r["ema_20_ratio"] = c / talib.EMA(c, 20) - 1
    r["macd"], r["macd_signal"], r["macd_hist"] = talib.MACD(c, 12, 26, 9)
    r["rsi_14"] = talib.RSI(c, 14)
    upper, middle, lower = talib.BBANDS(c, 20, 2, 2, 0)
    r["bb_pct_b"] = (c - lower) / (upper - lower)
    r["bb_bandwidth"] = (upper - lower) / middle
    r["atr_14"] = talib.ATR(h, l, c, 14)
    r["stoch_k"], r["stoch_d"] = talib.STOCHF(h, l, c, 14, 3, 0)
    r["willr_14"] = talib.WILLR(h, l, c, 14)
    r["cci_20"] = talib.CCI(h, l, c, 20)
    r["adx_14"] = talib.ADX(h, l, c, 14)
    r["obv"] = talib.OBV(c, v)
    r["mfi_14"] = talib.MFI(h, l, c, v, 14)
    r["roc_10"] = talib.ROC(c, 10)
    return r


def numpy_part(c, v, bars_per_year, r):
    """rv_20 and volume_z_20: no TA-Lib function; vectorised numpy over sliding windows."""
    n = len(c)
    logret = np.log(c[1:] / c[:-1])
    rv = np.full(n, np.nan)
    rv[20:] = sliding_window_view(logret, 20).std(axis=1, ddof=1) * np.sqrt(bars_per_year)
    r["rv_20"] = rv
    w = sliding_window_view(v, 20)
    sd = w.std(axis=1, ddof=1)
    z = np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z[19:] = np.where(sd > 0, (v[19:] - w.mean(axis=1)) / sd, np.nan)
    r["volume_z_20"] = z
    return r


def main():
    d, runs, bars_per_year = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    h, l, c, v = (load(d, k) for k in ("high", "low", "close", "volume"))
    with np.errstate(divide="ignore", invalid="ignore"):
        talib_part(h, l, c, v)  # warm-up
        total, talib_only, total_cpu, talib_only_cpu = [], [], [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            r = talib_part(h, l, c, v)
            t1, c1 = time.perf_counter(), time.process_time()
            numpy_part(c, v, bars_per_year, r)
            t2, c2 = time.perf_counter(), time.process_time()
            talib_only.append((t1 - t0) * 1000)
            total.append((t2 - t0) * 1000)
            talib_only_cpu.append((c1 - c0) * 1000)
            total_cpu.append((c2 - c0) * 1000)
    for name, arr in r.items():
        np.ascontiguousarray(arr, dtype="<f8").tofile(f"{d}/out_{name}.f64")
    print(json.dumps({
        "talib_version": talib.__version__,
        "talib_c_version": talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else str(talib.__ta_version__),
        "numpy_version": np.__version__,
        "total_ms": total,
        "talib_only_ms": talib_only,
        "total_cpu_ms": total_cpu,
        "talib_only_cpu_ms": talib_only_cpu,
    }))


if __name__ == "__main__":
    main()
