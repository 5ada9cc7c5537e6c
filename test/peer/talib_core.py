"""TA-Lib side of test/peer/talib-core.peer-spec.ts: the `core` features of each series computed by TA-Lib.

For every sub-directory <dir>/<series>/ holding in_{high,low,close,volume}.f64 (little-endian float64) and a text file
bars_per_year, writes out_<feature>.f64 for every `core` v1 and v2 feature: TA-Lib's functions
(bench/peers/talib_features.py, the same definitions the indicators bench uses), with numpy for rv_20 and volume_z_20,
which TA-Lib has no function for; v2's five scale-free columns from TA-Lib as FEATURE_SET_CORE_V2 states them.

Usage: <venv>/bin/python test/peer/talib_core.py <dir>
"""
import os
import sys

import numpy as np
import talib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "peers"))
from talib_features import numpy_part, talib_part  # noqa: E402


def v2_part(h, l, c, v, r):
    """The five `core` v2 columns that replace v1's unit-bearing ones (the other 17 are v1's)."""
    r["macd_norm"] = r["macd"] / c
    r["macd_signal_norm"] = r["macd_signal"] / c
    r["macd_hist_norm"] = r["macd_hist"] / c
    r["natr_14"] = talib.NATR(h, l, c, 14)
    obv = talib.OBV(c, v)
    rate = np.full(len(c), np.nan)
    total = talib.SUM(v, 20)
    rate[20:] = (obv[20:] - obv[:-20]) / total[20:]
    rate[total == 0] = np.nan
    r["obv_rate_20"] = rate
    return r


def main():
    root = sys.argv[1]
    for series in sorted(os.listdir(root)):
        d = os.path.join(root, series)
        h, l, c, v = (np.fromfile(os.path.join(d, f"in_{k}.f64"), dtype="<f8") for k in ("high", "low", "close", "volume"))
        with open(os.path.join(d, "bars_per_year")) as f:
            bars_per_year = float(f.read())
        with np.errstate(divide="ignore", invalid="ignore"):
            r = v2_part(h, l, c, v, numpy_part(c, v, bars_per_year, talib_part(h, l, c, v)))
        for name, arr in r.items():
            np.ascontiguousarray(arr, dtype="<f8").tofile(os.path.join(d, f"out_{name}.f64"))


if __name__ == "__main__":
    main()
