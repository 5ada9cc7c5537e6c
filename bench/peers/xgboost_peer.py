"""XGBoost (`tree_method="hist"`) peer for bench:signals (training part), sibling of lightgbm_peer.py.

Reads the benchmark's data from raw little-endian float64 files written by bench/signals.bench.ts
(X_train: n_train x n_features row-major, y_train, X_valid, y_valid; NaN = missing), trains XGBoost with one thread
and the LightGBM-style parameters given as JSON on argv[2] (mapped below), and prints ONE JSON line: training time (s,
QuantileDMatrix construction included), validation AUC, trees, batch prediction throughput (one thread, batches of
10,000 rows).

Parameter mapping (LightGBM name -> XGBoost):
  num_leaves      -> max_leaves with grow_policy="lossguide", max_depth=0 (leaf-wise, no depth limit)
  max_bin         -> max_bin, same meaning: checked with QuantileDMatrix.get_quantile_cut() that max_bin=k gives k
                     populated value bins (k + 1 cut values, the first below the minimum); missing values get no bin
                     in either library (learned default direction)
  min_sum_hessian_in_leaf -> min_child_weight
  lambda_l1 / lambda_l2   -> alpha / lambda (XGBoost's default lambda is 1: set explicitly)
  learning_rate   -> eta
  min_data_in_leaf: XGBoost has no row-count constraint on leaves (only min_child_weight); not mapped.
  bagging_fraction / feature_fraction -> subsample / colsample_bytree.

Usage: xgboost_peer.py <dir> '<params json>'
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from peer_timing import batch_predict_rows_per_s


def main() -> None:
    d = sys.argv[1]
    p = json.loads(sys.argv[2])
    nf = int(p["n_features"])
    x_tr = np.fromfile(os.path.join(d, "X_train.f64"), dtype="<f8").reshape(-1, nf)
    y_tr = np.fromfile(os.path.join(d, "y_train.f64"), dtype="<f8")
    x_va = np.fromfile(os.path.join(d, "X_valid.f64"), dtype="<f8").reshape(-1, nf)
    y_va = np.fromfile(os.path.join(d, "y_valid.f64"), dtype="<f8")
    num_trees = int(p["num_trees"])
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "nthread": 1,
        "grow_policy": "lossguide",
        "max_leaves": int(p["num_leaves"]),
        "max_depth": 0,
        "max_bin": int(p["max_bin"]),
        "eta": float(p["learning_rate"]),
        "min_child_weight": float(p["min_sum_hessian_in_leaf"]),
        "alpha": float(p["lambda_l1"]),
        "lambda": float(p["lambda_l2"]),
        "subsample": float(p["bagging_fraction"]),
        "colsample_bytree": float(p["feature_fraction"]),
        "verbosity": 0,
    }
    t0 = time.perf_counter()
    c0 = time.process_time()
    dtrain = xgb.QuantileDMatrix(x_tr, label=y_tr, max_bin=params["max_bin"], nthread=1)
    booster = xgb.train(params, dtrain, num_boost_round=num_trees)
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0
    booster.set_param({"nthread": 1})
    pred = booster.inplace_predict(x_va)
    # Batch scoring throughput of the same booster, one thread, batches of 10,000 rows (bench:signals `scoring`):
    # inplace_predict on numpy input, XGBoost's fastest CPU prediction path.
    predict_rows_per_s = batch_predict_rows_per_s(booster.inplace_predict, x_va)
    print(json.dumps({
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "valid_auc": float(roc_auc_score(y_va, pred)),
        "trees": booster.num_boosted_rounds(),
        "predict_rows_per_s_1thread": predict_rows_per_s,
        "xgboost_version": xgb.__version__,
        "tree_method": "hist",
    }))


if __name__ == "__main__":
    main()
