"""Helpers shared by the Python peers of bench:signals (same rules as bench/signals.bench.ts, see bench/README.md)."""
import json
import os
import sys
import time

import numpy as np


def read_f64(d, name, n_features=None):
    """A raw little-endian float64 file written by bench/signals.bench.ts (row-major when `n_features` is given)."""
    a = np.fromfile(os.path.join(d, name), dtype="<f8")
    return a.reshape(-1, n_features) if n_features else a


def batch_predict_rows_per_s(predict, x, batch):
    """Rows/s of `predict` over the distinct rows of `x`, in batches of `batch` rows, probabilities into one array.

    The first batch warms the predictor up and is not timed; the remaining batches (distinct rows, never seen before
    by the predictor) are timed. The same split as our side (bench/signals-scoring.ts, `scoreRowsPerS`). Returns
    (rows/s in wall time, rows per CPU second of the process, the predictions of every row).
    """
    n = len(x) - len(x) % batch
    out = np.empty(n)
    out[:batch] = predict(x[:batch])
    c0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(batch, n, batch):
        out[i:i + batch] = predict(x[i:i + batch])
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return (n - batch) / dt, (n - batch) / cpu, out


def read_training(d, n_features):
    """The training and held-out sets: (X_train, y_train, X_valid, y_valid)."""
    return (read_f64(d, "X_train.f64", n_features), read_f64(d, "y_train.f64"),
            read_f64(d, "X_valid.f64", n_features), read_f64(d, "y_valid.f64"))


def main(train, predict):
    """`train <dir> '<params>'` or `predict <model file> <dir> '<params>'`: prints the mode's result as ONE JSON line."""
    mode = sys.argv[1]
    if mode == "train":
        r = train(sys.argv[2], json.loads(sys.argv[3]))
    elif mode == "predict":
        r = predict(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(r))
