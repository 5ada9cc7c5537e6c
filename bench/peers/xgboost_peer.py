"""XGBoost (`tree_method="hist"`) peer of bench:signals (bench/signals.bench.ts; the rule: bench/README.md).

Two modes, both one thread, both printing ONE JSON line (files as in lightgbm_peer.py):

  xgboost_peer.py train <dir> '<params json>'
      Trains on X_train / y_train with the LightGBM-style parameters mapped below, saves the model to `model_out`, and
      prints the training time (QuantileDMatrix construction included), the validation AUC and the leaves counted from
      the trained trees. The bench trains it once, for the scoring comparison (its training time is information only).
  xgboost_peer.py predict <model file> <dir> '<params json>'
      Scores X_score in batches of `batch` rows with `inplace_predict` (nthread=1, XGBoost's fastest CPU prediction
      path on numpy input): rows/s over the distinct rows after the first (warm-up) batch, and the AUC against y_score.

Parameter mapping (LightGBM name -> XGBoost):
  num_leaves      -> max_leaves with grow_policy="lossguide", max_depth=0 (leaf-wise, no depth limit)
  max_bin         -> max_bin (k value bins in both libraries; missing values get no bin, learned default direction)
  min_sum_hessian_in_leaf -> min_child_weight
  lambda_l1 / lambda_l2   -> alpha / lambda (XGBoost's default lambda is 1: set explicitly)
  learning_rate   -> eta
  min_data_in_leaf: XGBoost has no row-count constraint on leaves (only min_child_weight); not mapped.
  bagging_fraction / feature_fraction -> subsample / colsample_bytree.
"""
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from peer_timing import batch_predict_rows_per_s, main, read_f64, read_training


def count_leaves(booster):
    return [tree.count('"leaf"') for tree in booster.get_dump(dump_format="json")]


def train(d, p):
    nf = int(p["n_features"])
    x_tr, y_tr, x_va, y_va = read_training(d, nf)
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
    booster = xgb.train(params, dtrain, num_boost_round=int(p["num_trees"]))
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0
    booster.set_param({"nthread": 1})
    leaves = count_leaves(booster)
    if p.get("model_out"):
        booster.save_model(p["model_out"])
    return {
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "valid_auc": float(roc_auc_score(y_va, booster.inplace_predict(x_va))),
        "trees": booster.num_boosted_rounds(),
        "leaves_mean": float(np.mean(leaves)),
        "leaves_max": int(np.max(leaves)),
        "xgboost_version": xgb.__version__,
        "tree_method": "hist",
    }


def predict(model_file, d, p):
    booster = xgb.Booster(model_file=model_file)
    booster.set_param({"nthread": 1})
    x = read_f64(d, "X_score.f64", int(p["n_features"]))
    y = read_f64(d, "y_score.f64")
    rows_per_s, rows_per_cpu_s, out = batch_predict_rows_per_s(booster.inplace_predict, x, int(p["batch"]))
    return {
        "rows_per_s": rows_per_s,
        "rows_per_cpu_s": rows_per_cpu_s,
        "rows": len(out),
        "auc": float(roc_auc_score(y[:len(out)], out)),
        "xgboost_version": xgb.__version__,
    }


if __name__ == "__main__":
    main(train, predict)
