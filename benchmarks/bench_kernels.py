"""Per-kernel speed: numba vs the C reference (speed of light) vs the naive references the tests
check the kernels against (tests/naive, numpy where that is the obvious form), on 60 minutes of audio.

Prints time per call and the ratio to C, side by side in one run (machines are noisy, ratios less so);
first checks that numba, C and the reference agree on the first minute.

    python benchmarks/bench_kernels.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repo root: tests is a package
sys.path.insert(0, str(ROOT / "native"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle  # noqa: E402
from timing import best_of  # noqa: E402

from attunement.conversation.speakers import suppress_leak  # noqa: E402
from attunement.perception.vad_kernels import frame_energy_db, highpass, highpass_coefficients  # noqa: E402
from tests import naive  # noqa: E402

RATE, FRAME = 16000, 480


def check(x, coef, speech, level, native) -> None:
    """numba, C and the naive reference agree on the first minute (the naive highpass on 2 s: it is slow)."""
    head, frames = x[:RATE * 60], RATE * 60 // FRAME
    np.testing.assert_allclose(highpass(head[:2 * RATE], coef, np.zeros(2)), naive.highpass(head[:2 * RATE], coef),
                               atol=1e-5)
    np.testing.assert_allclose(highpass(head, coef, np.zeros(2)), native.highpass(head, coef, np.zeros(2)), atol=1e-5)
    for fn in (frame_energy_db, native.frame_energy_db):
        np.testing.assert_allclose(fn(head, FRAME), naive.frame_energy_db(head, FRAME), atol=1e-4)
    s, lv = speech[:, :frames], level[:, :frames]
    for got in (suppress_leak(s, lv, margin_db=9.0), native.suppress_leak(s, lv, margin_db=9.0)):
        np.testing.assert_array_equal(got, naive.suppress_leak(s, lv, 9.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of audio to time (default 60)")
    minutes = parser.parse_args().minutes
    native = oracle.load()
    if native is None:
        raise SystemExit(f"C reference unavailable: {oracle.why_not}")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(int(RATE * 60 * minutes)) * 0.1).astype(np.float32)
    coef = highpass_coefficients(700.0, RATE)
    frames = x.size // FRAME
    speech = rng.random((2, frames)) < 0.5
    level = rng.uniform(-80, 0, (2, frames)).astype(np.float32)
    check(x, coef, speech, level, native)
    rows = [
        ("highpass (per sample)", lambda: highpass(x, coef, np.zeros(2)), lambda: native.highpass(x, coef, np.zeros(2)), None),
        ("frame_energy_db", lambda: frame_energy_db(x, FRAME), lambda: native.frame_energy_db(x, FRAME), lambda: naive.frame_energy_db(x, FRAME)),
        ("suppress_leak (2 ch)", lambda: suppress_leak(speech, level, margin_db=9.0),
         lambda: native.suppress_leak(speech, level, margin_db=9.0), lambda: naive.suppress_leak(speech, level, 9.0)),
    ]
    print(f"{minutes:g} min of 16 kHz audio, best of 5, one thread; naive: tests/naive (numpy)")
    print(f"{'kernel':<24}{'numba ms':>10}{'C ms':>10}{'naive ms':>10}{'numba/C':>9}{'naive/C':>9}{'x realtime':>12}")
    for name, nb, c, npy in rows:
        t_nb, t_c = best_of(nb), best_of(c)
        t_np = best_of(npy) if npy else float("nan")
        print(f"{name:<24}{t_nb * 1e3:10.1f}{t_c * 1e3:10.1f}{t_np * 1e3:10.1f}{t_nb / t_c:9.2f}{t_np / t_c:9.2f}"
              f"{minutes * 60 / t_nb:12.0f}")


if __name__ == "__main__":
    main()
