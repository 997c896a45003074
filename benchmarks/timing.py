"""The one timing loop of the micro-benchmarks (run them as `python benchmarks/<name>.py`)."""

import time

import numpy as np


def median_seconds(fn, repeats, warmup):
    """Median wall time of `repeats` calls of fn(), after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
