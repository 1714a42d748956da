"""Per-kernel speed: numba vs the C reference (speed of light) vs plain numpy, on 60 minutes of audio.

Prints time per call and the ratio to C, side by side in one run (machines are noisy, ratios less so).

    python benchmarks/bench_kernels.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from timing import best_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "native"))
import oracle  # noqa: E402

from attunement.conversation.speakers import suppress_leak  # noqa: E402
from attunement.perception.vad_kernels import frame_energy_db, highpass, highpass_coefficients  # noqa: E402

RATE, MINUTES, FRAME = 16000, 60, 480



def numpy_energy(x):
    n = x.size // FRAME
    return (10 * np.log10(np.mean(x[: n * FRAME].reshape(n, FRAME).astype(np.float64) ** 2, axis=1) + 1e-12)).astype(np.float32)


def numpy_leak(speech, level, margin):
    loudest = np.where(speech, level, -np.inf).max(axis=0)
    return speech & (level >= loudest - margin)


def main() -> None:
    native = oracle.load()
    if native is None:
        raise SystemExit(f"C reference unavailable: {oracle.why_not}")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(RATE * 60 * MINUTES) * 0.1).astype(np.float32)
    coef = highpass_coefficients(700.0, RATE)
    frames = x.size // FRAME
    speech = rng.random((2, frames)) < 0.5
    level = rng.uniform(-80, 0, (2, frames)).astype(np.float32)
    rows = [
        ("highpass (per sample)", lambda: highpass(x, coef, np.zeros(2)), lambda: native.highpass(x, coef, np.zeros(2)), None),
        ("frame_energy_db", lambda: frame_energy_db(x, FRAME), lambda: native.frame_energy_db(x, FRAME), lambda: numpy_energy(x)),
        ("suppress_leak (2 ch)", lambda: suppress_leak(speech, level, margin_db=9.0),
         lambda: native.suppress_leak(speech, level, margin_db=9.0), lambda: numpy_leak(speech, level, 9.0)),
    ]
    print(f"{MINUTES} min of 16 kHz audio, best of 5, one thread")
    print(f"{'kernel':<24}{'numba ms':>10}{'C ms':>10}{'numpy ms':>10}{'numba/C':>9}{'numpy/C':>9}{'x realtime':>12}")
    for name, nb, c, npy in rows:
        t_nb, t_c = best_of(nb), best_of(c)
        t_np = best_of(npy) if npy else float("nan")
        print(f"{name:<24}{t_nb * 1e3:10.1f}{t_c * 1e3:10.1f}{t_np * 1e3:10.1f}{t_nb / t_c:9.2f}{t_np / t_c:9.2f}"
              f"{MINUTES * 60 / t_nb:12.0f}")


if __name__ == "__main__":
    main()
