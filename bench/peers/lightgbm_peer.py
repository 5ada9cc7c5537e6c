"""LightGBM peer for bench:signals (training part).

Reads the benchmark's data from raw little-endian float64 files written by bench/signals.bench.ts
(X_train: n_train x n_features row-major, y_train, X_valid, y_valid; NaN = missing), trains LightGBM with one thread
and the parameters given as JSON on argv[2], and prints ONE JSON line: training time (s), validation AUC, trees.

Usage: lightgbm_peer.py <dir> '<params json>'
"""
import json
import os
import sys
import time

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score
from peer_timing import batch_predict_rows_per_s


def main() -> None:
    d = sys.argv[1]
    p = json.loads(sys.argv[2])
    nf = int(p.pop("n_features"))
    x_tr = np.fromfile(os.path.join(d, "X_train.f64"), dtype="<f8").reshape(-1, nf)
    y_tr = np.fromfile(os.path.join(d, "y_train.f64"), dtype="<f8")
    x_va = np.fromfile(os.path.join(d, "X_valid.f64"), dtype="<f8").reshape(-1, nf)
    y_va = np.fromfile(os.path.join(d, "y_valid.f64"), dtype="<f8")
    num_trees = int(p.pop("num_trees"))
    params = {"objective": "binary", "num_threads": 1, "verbose": -1, "deterministic": True, "force_row_wise": True, **p}
    t0 = time.perf_counter()
    c0 = time.process_time()
    ds = lgb.Dataset(x_tr, label=y_tr, params={"max_bin": params.get("max_bin", 255)})
    booster = lgb.train(params, ds, num_boost_round=num_trees)
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0
    pred = booster.predict(x_va)
    # Batch scoring throughput of the same booster, one thread, batches of 10,000 rows (bench:signals `scoring`).
    predict_rows_per_s = batch_predict_rows_per_s(lambda b: booster.predict(b, num_threads=1), x_va)
    print(json.dumps({
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "valid_auc": float(roc_auc_score(y_va, pred)),
        "trees": booster.num_trees(),
        "predict_rows_per_s_1thread": predict_rows_per_s,
        "lightgbm_version": lgb.__version__,
    }))


if __name__ == "__main__":
    main()
