"""LightGBM peer of bench:signals (bench/signals.bench.ts; the rule: bench/README.md).

Two modes, both one thread, both printing ONE JSON line:

  lightgbm_peer.py train <dir> '<params json>'
      Reads the raw little-endian float64 files written by the bench (X_train: rows x n_features row-major, y_train,
      X_valid, y_valid; NaN = missing), trains with the given parameters and `use_quantized_grad` as `quantized` says,
      and prints the training time (Dataset construction included, as our side's binning is; file reading excluded on
      both sides), the validation AUC and the leaves counted from the trained trees. With `model_out`, saves the model.
  lightgbm_peer.py predict <model file> <dir> '<params json>'
      Scores X_score (rows x n_features) in batches of `batch` rows with `predict(num_threads=1)`: rows/s over the
      distinct rows after the first (warm-up) batch, and the AUC of the predictions against y_score.

Quantized training matches ours: stochastic rounding on (LightGBM's default), leaf values refitted from the exact
gradients (`quant_train_renew_leaf=true`, as our trainer always does), `num_grad_quant_bins` as given.
"""
import time

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score
from peer_timing import batch_predict_rows_per_s, main, read_f64, read_training


def train(d, p):
    nf = int(p["n_features"])
    x_tr, y_tr, x_va, y_va = read_training(d, nf)
    params = {
        "objective": "binary",
        "num_threads": 1,
        "verbose": -1,
        "deterministic": True,
        "force_row_wise": True,
        "num_leaves": int(p["num_leaves"]),
        "learning_rate": float(p["learning_rate"]),
        "max_bin": int(p["max_bin"]),
        "min_data_in_leaf": int(p["min_data_in_leaf"]),
        "min_sum_hessian_in_leaf": float(p["min_sum_hessian_in_leaf"]),
        "lambda_l1": float(p["lambda_l1"]),
        "lambda_l2": float(p["lambda_l2"]),
        "bagging_fraction": float(p["bagging_fraction"]),
        "feature_fraction": float(p["feature_fraction"]),
        "use_quantized_grad": bool(p["quantized"]),
    }
    if p["quantized"]:
        params.update({
            "num_grad_quant_bins": int(p["num_grad_quant_bins"]),
            "quant_train_renew_leaf": True,
            "stochastic_rounding": True,
        })
    t0 = time.perf_counter()
    c0 = time.process_time()
    ds = lgb.Dataset(x_tr, label=y_tr, params={"max_bin": params["max_bin"], "verbose": -1})
    booster = lgb.train(params, ds, num_boost_round=int(p["num_trees"]))
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0
    leaves = [t["num_leaves"] for t in booster.dump_model()["tree_info"]]
    pred = booster.predict(x_va, num_threads=1)
    if p.get("model_out"):
        booster.save_model(p["model_out"])
    return {
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "valid_auc": float(roc_auc_score(y_va, pred)),
        "trees": booster.num_trees(),
        "leaves_mean": float(np.mean(leaves)),
        "leaves_max": int(np.max(leaves)),
        "quantized": bool(p["quantized"]),
        "lightgbm_version": lgb.__version__,
    }


def predict(model_file, d, p):
    booster = lgb.Booster(model_file=model_file)
    x = read_f64(d, "X_score.f64", int(p["n_features"]))
    y = read_f64(d, "y_score.f64")
    rows_per_s, rows_per_cpu_s, out = batch_predict_rows_per_s(lambda b: booster.predict(b, num_threads=1), x, int(p["batch"]))
    return {
        "rows_per_s": rows_per_s,
        "rows_per_cpu_s": rows_per_cpu_s,
        "rows": len(out),
        "auc": float(roc_auc_score(y[:len(out)], out)),
        "lightgbm_version": lgb.__version__,
    }


if __name__ == "__main__":
    main(train, predict)
