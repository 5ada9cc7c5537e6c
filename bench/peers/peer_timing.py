"""Timing helper shared by the Python peers of bench:signals."""
import time


def batch_predict_rows_per_s(predict, x, batch=10_000):
    """Rows/s of `predict` over `x` in batches of `batch` rows (one warm-up batch first; the last partial batch is left out)."""
    batches = [x[i:i + batch] for i in range(0, len(x) - batch + 1, batch)]
    predict(batches[0])
    t0 = time.perf_counter()
    for b in batches:
        predict(b)
    return sum(len(b) for b in batches) / (time.perf_counter() - t0)
