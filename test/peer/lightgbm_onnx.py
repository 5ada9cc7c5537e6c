"""LightGBM side of test/peer/lightgbm-onnx.peer-spec.ts.

Reads <dir>/meta_in.json ({"features": [...names], "nTrain": n, "nTest": m}), <dir>/x_train.f32 and <dir>/x_test.f32
(row-major little-endian float32, NaN = missing) and <dir>/y_train.u8; trains a LightGBM binary classifier (one thread,
deterministic), converts it to ONNX with onnxmltools (float32 input, no ZipMap, as an external tool would hand it to
us) and writes <dir>/model.onnx, LightGBM's own predictions of the test rows <dir>/prob.f64 (probability of class 1)
and <dir>/raw.f64 (raw margin), and <dir>/meta_out.json (versions, trees).

Usage: <venv>/bin/python test/peer/lightgbm_onnx.py <dir>
"""
import json
import os
import sys

import lightgbm as lgb
import numpy as np
import onnxmltools
from onnxmltools.convert.common.data_types import FloatTensorType


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "meta_in.json")) as f:
        meta = json.load(f)
    names, k = meta["features"], len(meta["features"])
    x_train = np.fromfile(os.path.join(d, "x_train.f32"), dtype="<f4").reshape(meta["nTrain"], k)
    x_test = np.fromfile(os.path.join(d, "x_test.f32"), dtype="<f4").reshape(meta["nTest"], k)
    y_train = np.fromfile(os.path.join(d, "y_train.u8"), dtype=np.uint8).astype(np.int64)
    params = dict(objective="binary", n_estimators=100, num_leaves=31, learning_rate=0.05, min_child_samples=20,
                  subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=7, deterministic=True,
                  force_row_wise=True, n_jobs=1, verbose=-1)
    model = lgb.LGBMClassifier(**params).fit(x_train, y_train, feature_name=names)
    onx = onnxmltools.convert_lightgbm(model, initial_types=[("input", FloatTensorType([None, k]))], zipmap=False,
                                       target_opset=15)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    np.ascontiguousarray(model.predict_proba(x_test)[:, 1], dtype="<f8").tofile(os.path.join(d, "prob.f64"))
    np.ascontiguousarray(model.predict(x_test, raw_score=True), dtype="<f8").tofile(os.path.join(d, "raw.f64"))
    trees = model.booster_.dump_model()["tree_info"]
    with open(os.path.join(d, "meta_out.json"), "w") as f:
        json.dump({"lightgbm": lgb.__version__, "onnxmltools": onnxmltools.__version__, "trees": len(trees),
                   "leaves": int(sum(t["num_leaves"] for t in trees)), "params": params}, f)


if __name__ == "__main__":
    main()
