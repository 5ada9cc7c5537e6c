"""Peers of the probabilistic KPI bands (bench/kpi-bands.bench.ts, test/peer/garch-t.peer-spec.ts).

  fit <series.f64>             arch's GARCH(1,1) with a constant mean and standardised Student-t errors, fitted by
                               maximum likelihood (rescale=False, tight SLSQP tolerance); prints one JSON object with
                               mu, omega, alpha, beta, nu and the log-likelihood.
  sim <spec.json> <z.f64>      numpy implementation of the same filtered historical simulation as simulateKpiBands
                               (iid resampled standardised residuals, sigma2' = c0 + a e^2 + b sigma2, log returns,
                               final equity / max drawdown / Sharpe percentiles, P(loss), P(max drawdown > x) for
                               x in drawdownThresholds (default 0.1, 0.2, 0.3) and the per-bar fan), vectorised over
                               paths; `reps` timed repetitions with distinct seeds; prints the median seconds and the
                               bands of the last repetition.
Series files are raw little-endian float64.
"""
import json
import sys
import time

import numpy as np


def fit(path):
    from arch import arch_model

    y = np.fromfile(path, dtype="<f8")
    am = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist="t", rescale=False)
    t0 = time.perf_counter()
    res = am.fit(disp="off", tol=1e-12, options={"maxiter": 2000, "ftol": 1e-14})
    secs = time.perf_counter() - t0
    p = res.params
    print(
        json.dumps(
            {
                "mu": float(p["mu"]),
                "omega": float(p["omega"]),
                "alpha": float(p["alpha[1]"]),
                "beta": float(p["beta[1]"]),
                "nu": float(p["nu"]),
                "logLikelihood": float(res.loglikelihood),
                "convergence": int(res.convergence_flag),
                "seconds": secs,
            }
        )
    )


def simulate(rng, z, mu, c0, a, b, s2_start, paths, horizon, ppy, thresholds):
    n = z.shape[0]
    s2 = np.full(paths, s2_start)
    log_eq = np.zeros(paths)
    peak = np.ones(paths)
    dd = np.zeros(paths)
    s1 = np.zeros(paths)
    sq = np.zeros(paths)
    fan = np.empty((horizon, paths))
    for k in range(horizon):
        e = np.sqrt(s2) * z[(rng.random(paths) * n).astype(np.int64)]
        s2 = c0 + a * e * e + b * s2
        lx = mu + e
        log_eq += lx
        eq = np.exp(log_eq)
        simple = np.expm1(lx)
        s1 += simple
        sq += simple * simple
        np.maximum(peak, eq, out=peak)
        np.maximum(dd, 1 - eq / peak, out=dd)
        fan[k] = eq
    m = s1 / horizon
    v = (sq - horizon * m * m) / (horizon - 1)
    sharpe = m / np.sqrt(v) * np.sqrt(ppy)
    q = [5, 25, 50, 75, 95]
    eq = fan[horizon - 1]
    return {
        "equity": np.percentile(eq, q).tolist(),
        "maxDrawdown": np.percentile(dd, q).tolist(),
        "sharpe": np.percentile(sharpe[v > 0], q).tolist(),
        "probLoss": float(np.mean(eq < 1)),
        "probDrawdownWorseThan": [float(np.mean(dd > t)) for t in thresholds],
        "fan": np.percentile(fan, q, axis=1).T.tolist(),
    }


def sim(spec_path, z_path):
    spec = json.load(open(spec_path))
    z = np.fromfile(z_path, dtype="<f8")
    times = []
    out = None
    for rep in range(spec["reps"]):
        rng = np.random.default_rng(spec["seed"] + rep)
        t0 = time.perf_counter()
        out = simulate(rng, z, spec["mu"], spec["c0"], spec["a"], spec["b"], spec["s2Start"], spec["paths"], spec["horizon"], spec["periodsPerYear"], spec.get("drawdownThresholds", [0.1, 0.2, 0.3]))
        times.append(time.perf_counter() - t0)
    out["fan"] = out["fan"][-1]
    print(json.dumps({"seconds": sorted(times)[len(times) // 2], "times": times, "bands": out}))


if __name__ == "__main__":
    if sys.argv[1] == "fit":
        fit(sys.argv[2])
    elif sys.argv[1] == "sim":
        sim(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: kpi_bands_peer.py fit <series.f64> | sim <spec.json> <z.f64>")
