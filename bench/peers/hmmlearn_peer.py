#!/usr/bin/env python3
"""Peer of bench/regime.bench.ts: hmmlearn's GaussianHMM (full covariances) fitted from OUR initial parameters, one thread.

Usage: hmmlearn_peer.py <dir> <n_iter> <implementation: scaling|log>
Reads from <dir> (raw little-endian float64, written by the bench): obs.f64 (n x d row-major), start.f64 (k),
trans.f64 (k x k), means.f64 (k x d), covars.f64 (k x d x d); shape from shape.json {n, d, k}.
Fits with init_params="" (our start), params="stmc", n_iter fixed and tol=-inf (no early stop, like our side), no
priors (covars_prior=0: the maximum-likelihood M-step; transmat/startprob priors 1 are the ML update). Timed: fit only
(file reading excluded on both sides). Then: score(X) = log-likelihood of the final parameters; hmmlearn's own forward
pass (_hmmc.forward_log) over its emission log-likelihoods (_compute_log_likelihood) of the final parameters,
normalised per bar = filtered probabilities, written to <dir>/filtered.f64; the final parameters to <dir>/fit_*.f64.
Prints ONE JSON line.
"""
import json
import os
import sys
import time

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"

import numpy as np  # noqa: E402
import hmmlearn  # noqa: E402
from hmmlearn import _hmmc  # noqa: E402
from hmmlearn.hmm import GaussianHMM  # noqa: E402
from scipy.special import logsumexp  # noqa: E402


def main() -> None:
    d_, n_iter, impl = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    shape = json.load(open(os.path.join(d_, "shape.json")))
    n, d, k = shape["n"], shape["d"], shape["k"]
    rd = lambda name, *s: np.fromfile(os.path.join(d_, name), dtype="<f8").reshape(*s)  # noqa: E731
    x = rd("obs.f64", n, d)
    m = GaussianHMM(n_components=k, covariance_type="full", n_iter=n_iter, tol=-np.inf, init_params="",
                    params="stmc", covars_prior=0.0, implementation=impl)
    m.startprob_ = rd("start.f64", k)
    m.transmat_ = rd("trans.f64", k, k)
    m.means_ = rd("means.f64", k, d)
    m.covars_ = rd("covars.f64", k, d, d)
    t = time.perf_counter()
    m.fit(x)
    fit_ms = (time.perf_counter() - t) * 1000
    score = m.score(x)
    log_frame = m._compute_log_likelihood(x)
    _, fwd = _hmmc.forward_log(m.startprob_, m.transmat_, log_frame)
    filtered = np.exp(fwd - logsumexp(fwd, axis=1, keepdims=True))
    filtered.astype("<f8").tofile(os.path.join(d_, "filtered.f64"))
    m.startprob_.astype("<f8").tofile(os.path.join(d_, "fit_start.f64"))
    m.transmat_.astype("<f8").tofile(os.path.join(d_, "fit_trans.f64"))
    m.means_.astype("<f8").tofile(os.path.join(d_, "fit_means.f64"))
    np.ascontiguousarray(m.covars_).astype("<f8").tofile(os.path.join(d_, "fit_covars.f64"))
    print(json.dumps({"fit_ms": fit_ms, "log_lik": float(score), "iterations": int(m.monitor_.iter),
                      "hmmlearn": hmmlearn.__version__, "numpy": np.__version__, "implementation": impl}))


if __name__ == "__main__":
    main()
