#!/usr/bin/env python3
"""Peer of scripts/eval-regime.ts: statsmodels' MarkovRegression on the same synthetic log returns, one thread.

Usage: markov_regression_peer.py <raw little-endian float64 file of log returns>
Fits a 2-regime Markov-switching model with a switching mean and a switching variance (trend="c",
switching_variance=True) on the whole series (default fit: EM warm-up then BFGS), and writes the FILTERED marginal
probabilities (n x 2, row-major float64, P(regime_t | returns up to t)) next to the input as <file>.filtered.f64.
Prints ONE JSON line: regime standard deviations, fit time, versions.
"""
import json
import os
import sys
import time
import warnings

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"

import numpy as np  # noqa: E402
import statsmodels  # noqa: E402
import statsmodels.api as sm  # noqa: E402


def main() -> None:
    path = sys.argv[1]
    r = np.fromfile(path, dtype="<f8")
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Returns in percent: the optimiser is better conditioned (the filtered probabilities do not depend on units).
        model = sm.tsa.MarkovRegression(r * 100, k_regimes=2, trend="c", switching_variance=True)
        res = model.fit(disp=False)
    fit_ms = (time.perf_counter() - t) * 1000
    filtered = np.asarray(res.filtered_marginal_probabilities)
    np.ascontiguousarray(filtered).astype("<f8").tofile(path + ".filtered.f64")
    names = list(model.param_names)
    sig = [float(np.sqrt(res.params[names.index(f"sigma2[{i}]")])) / 100 for i in range(2)]
    print(json.dumps({"fit_ms": fit_ms, "sigma": sig, "statsmodels": statsmodels.__version__,
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
