#!/usr/bin/env bash
# Creates bench/peers/.venv with the Python peers the benchmarks compare against.
# Never needed by `npm test`; benchmarks skip a peer (and say so) when the venv is absent.
#   - TA-Lib (PyPI `TA-Lib`, >= 0.6 ships manylinux wheels with the C library bundled) + numpy:
#     peer of bench/indicators.bench.ts (bench:indicators / bench:features).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# Binary wheels only: if no wheel fits this platform we fail loudly rather than try to build the C library.
"$venv/bin/python" -m pip install --quiet --only-binary=:all: "numpy>=1.26" "TA-Lib>=0.6,<0.9"
"$venv/bin/python" -c 'import talib, numpy; print("peers ready: TA-Lib", talib.__version__, "(C", talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else talib.__ta_version__, ") numpy", numpy.__version__)'
# Peer of bench/backtest.bench.ts (bench:backtest): vectorbt, where it installs (it needs numba / llvmlite wheels);
# the backtest bench runs its numpy peer without it and says vectorbt was skipped.
"$venv/bin/python" -m pip install --quiet --only-binary=:all: "vectorbt>=0.26" || echo "vectorbt did not install: bench:backtest compares with numpy only"
# Peer of bench/sentinel.bench.ts (bench:sentinel): scikit-learn's IsolationForest, one thread.
# Peer of bench/signals.bench.ts (bench:signals): LightGBM, one thread, same data and parameters.
"$venv/bin/python" -m pip install --quiet --only-binary=:all: "scikit-learn>=1.4" "lightgbm>=4"
"$venv/bin/python" -c 'import sklearn, lightgbm; print("peers ready: scikit-learn", sklearn.__version__, "lightgbm", lightgbm.__version__)'
# ONNX tooling: onnx (the reference onnx-ml.proto the exporter's field numbers were checked against) and onnxmltools
# (converts LightGBM models to ONNX: libs/signals/infra-onnx/src/testing/fixtures/make_lightgbm_fixture.py).
"$venv/bin/python" -m pip install --quiet --only-binary=:all: onnx onnxmltools lightgbm
# Second peer of bench/signals.bench.ts (bench:signals): XGBoost `tree_method="hist"`, one thread (the issue's training
# target is stated against it); the CPU-only wheel.
"$venv/bin/python" -m pip install --quiet --only-binary=:all: xgboost-cpu
