"""Per-kernel speed: numba vs the C reference (speed of light) vs the naive references the tests
check the kernels against (tests/naive, numpy where that is the obvious form), on 60 minutes of input:
16 kHz audio for the signal kernels, face landmarks at the default analysis rate for the head-pose
fit (against a batched-SVD numpy fit), and a long random conversation for the turn engine (against
the plain-Python reference of tests/naive).

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


def numpy_head_pose(faces: np.ndarray, robust: float = 3.0, iterations: int = 2):
    """Plain numpy, batched over frames: weighted Umeyama by SVD with Cauchy reweighting (scale, residual)."""
    from attunement.cues.face_geometry import CANONICAL, RIGID

    dst = faces[:, RIGID].astype(np.float64)
    w = np.ones(dst.shape[:2])
    for _ in range(iterations + 1):
        wn = w / w.sum(1, keepdims=True)
        cs, cd = wn @ CANONICAL, np.einsum("nk,nka->na", wn, dst)
        a, b = CANONICAL[None] - cs[:, None], dst - cd[:, None]
        u, sig, vt = np.linalg.svd(np.einsum("nka,nk,nkb->nab", a, wn, b))
        d = np.sign(np.linalg.det(np.einsum("nba,ncb->nac", vt, u)))
        dd = np.ones((len(d), 3))
        dd[:, 2] = d
        rot = np.einsum("nba,nb,ncb->nac", vt, dd, u)
        s = (sig * dd).sum(1) / np.einsum("nk,nk->n", wn, (a ** 2).sum(2))
        t = cd - s[:, None] * np.einsum("nab,nb->na", rot, cs)
        fit = s[:, None, None] * np.einsum("nab,kb->nka", rot, CANONICAL) + t[:, None]
        r = np.linalg.norm(fit - dst, axis=2) / s[:, None]
        w = 1 / (1 + (r / robust) ** 2)
    return s, np.sqrt((r ** 2).mean(1))


def heavy_rows(rng, minutes: float, native) -> list:
    """The head-pose fit and the turn engine, checked against C (and the numpy fit) first."""
    sys.path.insert(0, str(ROOT / "tests"))
    from attunement.config import default_config
    from attunement.conversation.turn_kernels import bridge_pauses, run_floor
    from attunement.cues.headpose import fit_head_pose
    from test_native import faces_seen, random_segments

    config = default_config()
    faces = faces_seen(rng, int(minutes * 60 * config.perception.face_rate_hz))
    camera = (600.0, 320.0, 240.0)
    got, want = fit_head_pose(faces[:500], camera=camera), native.fit_head_pose(faces[:500], camera=camera)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(numpy_head_pose(faces[:500])[0], got.scale, rtol=1e-6)
    s, e, k = random_segments(rng, int(minutes * 60 * 20), 2)  # 20 segments a second: far more than speech has
    turns = config.turns
    bs, be, bk = bridge_pauses(s, e, k, bridge_pause_s=turns.bridge_pause_s)
    order = np.lexsort((bk, -(be - bs), bs))
    bs, be, bk = bs[order], be[order], bk[order]
    floor = {"backchannel_max_s": turns.backchannel_max_s,
             "interruption_min_holdover_s": turns.interruption_min_holdover_s,
             "interruption_min_continue_s": turns.interruption_min_continue_s}
    for a, b in zip(run_floor(bs, be, bk, **floor), native.run_floor(bs, be, bk, **floor), strict=True):
        np.testing.assert_array_equal(a, b)
    from attunement.records import Segment

    segs = [Segment(float(a), float(b), str(c)) for a, b, c in zip(s, e, k, strict=True)]
    return [
        (f"head-pose fit ({faces.shape[0]} fr)", lambda: fit_head_pose(faces, camera=camera),
         lambda: native.fit_head_pose(faces, camera=camera), lambda: numpy_head_pose(faces)),
        (f"bridge_pauses ({s.size} seg)", lambda: bridge_pauses(s, e, k, bridge_pause_s=turns.bridge_pause_s),
         lambda: native.bridge_pauses(s, e, k, bridge_pause_s=turns.bridge_pause_s),
         lambda: naive.bridge_pauses(segs, turns.bridge_pause_s)),
        (f"run_floor ({bs.size} seg)", lambda: run_floor(bs, be, bk, **floor),
         lambda: native.run_floor(bs, be, bk, **floor), None),
    ]


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
    rows += heavy_rows(rng, minutes, native)
    print(f"{minutes:g} min of input, best of 5, one thread; naive: tests/naive (numpy) or as named")
    print(f"{'kernel':<28}{'numba ms':>10}{'C ms':>10}{'naive ms':>10}{'numba/C':>9}{'naive/C':>9}{'x realtime':>12}")
    for name, nb, c, npy in rows:
        t_nb, t_c = best_of(nb), best_of(c)
        t_np = best_of(npy) if npy else float("nan")
        print(f"{name:<28}{t_nb * 1e3:10.1f}{t_c * 1e3:10.1f}{t_np * 1e3:10.1f}{t_nb / t_c:9.2f}{t_np / t_c:9.2f}"
              f"{minutes * 60 / t_nb:12.0f}")


if __name__ == "__main__":
    main()
