"""Shared timing helper of the benchmarks (imported from the benchmark scripts' own folder)."""

import time


def best_of(fn, repeats: int = 5) -> float:
    """Fastest of `repeats` timed calls of `fn`, seconds, after one untimed call (compile, warm caches)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
