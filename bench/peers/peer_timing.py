"""Helpers shared by the Python peers of bench:signals (same rules as bench/signals.bench.ts, see bench/README.md)."""
import os
import time

import numpy as np


def read_f64(d, name, n_features=None):
    """A raw little-endian float64 file written by bench/signals.bench.ts (row-major when `n_features` is given)."""
    a = np.fromfile(os.path.join(d, name), dtype="<f8")
    return a.reshape(-1, n_features) if n_features else a


def batch_predict_rows_per_s(predict, x, batch):
    """Rows/s of `predict` over the distinct rows of `x`, in batches of `batch` rows, probabilities into one array.

    The first batch warms the predictor up and is not timed; the remaining batches (distinct rows, never seen before
    by the predictor) are timed. The same split as our side (bench/signals.bench.ts, `scoreRowsPerS`). Returns
    (rows/s, the predictions of every row).
    """
    n = len(x) - len(x) % batch
    out = np.empty(n)
    out[:batch] = predict(x[:batch])
    t0 = time.perf_counter()
    for i in range(batch, n, batch):
        out[i:i + batch] = predict(x[i:i + batch])
    dt = time.perf_counter() - t0
    return (n - batch) / dt, out
