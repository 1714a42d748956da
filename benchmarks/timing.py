"""Shared timing helper of the benchmarks (imported from the benchmark scripts' own folder)."""

import os
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


def pinned_cores(n: int) -> str:
    """The first `n` CPUs this process may use, as "0,1" for taskset-style pinning (says so if fewer)."""
    available = sorted(os.sched_getaffinity(0))
    cores = ",".join(str(c) for c in available[:n])
    if n > len(available):
        print(f"only {len(available)} cores here; using {cores}")
    return cores


def run_child(code: str, *args) -> dict:
    """Runs `code` in a fresh Python process with `args` (a measurement free of this process's
    caches and memory) and returns the JSON object its last line of output prints."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])
