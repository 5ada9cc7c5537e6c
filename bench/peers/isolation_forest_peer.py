#!/usr/bin/env python3
"""Peer of bench/sentinel.bench.ts: scikit-learn's IsolationForest on the same rows x cols float64 matrix, one thread.

Usage: isolation_forest_peer.py <raw little-endian float64 file> <rows> <cols> <trees> <subsample> <runs>
Prints ONE JSON line: fit_ms (median), score_rows_per_s (median), versions. Scoring uses score_samples (the
anomaly score before the offset, the same quantity as s(x) up to sign), on the full matrix.
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402


def main() -> None:
    path, rows, cols, trees, subsample, runs = sys.argv[1], *map(int, sys.argv[2:7])
    x = np.fromfile(path, dtype="<f8").reshape(rows, cols)
    fit_ms, score_s = [], []
    model = None
    for r in range(runs):
        model = IsolationForest(n_estimators=trees, max_samples=subsample, n_jobs=1, random_state=r)
        t = time.perf_counter()
        model.fit(x)
        fit_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        s = model.score_samples(x)
        score_s.append(time.perf_counter() - t)
    print(json.dumps({
        "fit_ms": float(np.median(fit_ms)),
        "score_rows_per_s": float(rows / np.median(score_s)),
        "mean_score": float(-s.mean()),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "n_jobs": 1,
    }))


if __name__ == "__main__":
    main()
