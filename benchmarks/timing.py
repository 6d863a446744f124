"""Timing helpers: medians over repeated runs, so one slow run (a GC pause, another process) does
not decide the result."""
import statistics
import time


def median_time(run, repeats=7, inner=1, warmup=1):
    """Median seconds of one call of ``run``, timed as ``repeats`` batches of ``inner`` calls."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            run()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)
