#!/usr/bin/env bash
# Creates the Python peers venv: the libraries the benchmarks compare against and the `peer` jest project checks
# parity with. Binary wheels only: if no wheel fits this platform we fail loudly rather than build C libraries.
#
# Usage: bench/peers/setup.sh [parity|all]   (default all)
#   parity  what the `peer` jest project needs (test/peer/*.peer-spec.ts; `.ci/run` installs this; arch for the GARCH-t fit):
#           numpy + TA-Lib (>= 0.6 ships manylinux wheels with the C library bundled), LightGBM, scikit-learn (LightGBM's
#           sklearn API), onnx + onnxmltools (LightGBM -> ONNX; it imports `packaging` without declaring it).
#   all     parity plus the benchmarks' other peers: vectorbt (numba, pandas; large), XGBoost (CPU wheel), hmmlearn and
#           statsmodels (bench:regime, eval:regime).
# STRATA_PEERS_VENV: where the venv goes (default bench/peers/.venv, which the benchmarks use).
# A venv already set up by this exact script for the same (or a larger) mode is reused without calling pip, so a
# cached venv costs nothing; pip's own wheel cache (~/.cache/pip) makes a fresh one quick.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${1:-all}"
case "$mode" in parity | all) ;; *) echo "usage: $0 [parity|all]" >&2; exit 2 ;; esac
venv="${STRATA_PEERS_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
script_hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
stamp="$venv/.strata-peers"
if [ -f "$stamp" ] && { grep -qx "$script_hash all" "$stamp" || grep -qx "$script_hash $mode" "$stamp"; }; then
  echo "peers venv $venv is up to date ($mode)"
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pip() { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: "$@"; }

# Parity peers (and the peers of bench:indicators / bench:features, bench:sentinel, bench:signals' LightGBM side).
pip "numpy>=1.26" "TA-Lib>=0.6,<0.9" "scikit-learn>=1.4" "lightgbm>=4" onnx onnxmltools packaging
"$venv/bin/python" -c 'import talib, numpy, sklearn, lightgbm, onnxmltools; print("peers ready: TA-Lib", talib.__version__, "(C", talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else talib.__ta_version__, ") numpy", numpy.__version__, "scikit-learn", sklearn.__version__, "lightgbm", lightgbm.__version__, "onnxmltools", onnxmltools.__version__)'
# GARCH(1,1)-t fit parity of the probabilistic KPI bands (test/peer/garch-t.peer-spec.ts, bench:kpi-bands): arch
# (Kevin Sheppard's ARCH models; manylinux wheels, scipy and pandas come with it).
pip "arch>=7"
"$venv/bin/python" -c 'import arch; print("peers ready: arch", arch.__version__)'

if [ "$mode" = all ]; then
  # Peer of bench/backtest.bench.ts (bench:backtest): vectorbt, where it installs (it needs numba / llvmlite wheels);
  # the backtest bench runs its numpy peer without it and says vectorbt was skipped.
  pip "vectorbt>=0.26" || echo "vectorbt did not install: bench:backtest compares with numpy only"
  # Second peer of bench/signals.bench.ts (bench:signals): XGBoost `tree_method="hist"`, one thread; the CPU-only wheel.
  pip xgboost-cpu
  "$venv/bin/python" -c 'import xgboost; print("peers ready: xgboost", xgboost.__version__)'
  # Peers of the regime HMM: hmmlearn's GaussianHMM (bench/regime.bench.ts, bench:regime) and statsmodels'
  # MarkovRegression (scripts/eval-regime.ts, eval:regime); both ship manylinux wheels (scipy comes with statsmodels).
  pip "hmmlearn>=0.3" "statsmodels>=0.14"
  "$venv/bin/python" -c 'import hmmlearn, statsmodels; print("peers ready: hmmlearn", hmmlearn.__version__, "statsmodels", statsmodels.__version__)'
fi
echo "$script_hash $mode" >"$stamp"
