"""The numba kernels agree with their C reference versions in native/ (the correctness oracle): the
signal kernels, the head-pose fit and the turn engine, on random, hand-made and NaN-laden input."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "native"))
import oracle

from attunement.conversation.speakers import suppress_leak
from attunement.perception.vad_kernels import (
    frame_energy_db,
    highpass,
    highpass_coefficients,
)

native = oracle.load()
pytestmark = pytest.mark.skipif(native is None, reason=f"C oracle unavailable: {oracle.why_not}")


def test_highpass_matches_c_across_blocks(rng):
    x = rng.standard_normal(16000).astype(np.float32) * 0.1
    coef = highpass_coefficients(700.0, 16000)
    s_numba, s_c = np.zeros(2), np.zeros(2)
    for block in np.array_split(x, 7):
        np.testing.assert_allclose(highpass(block, coef, s_numba), native.highpass(block, coef, s_c), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s_numba, s_c, rtol=1e-9)


@pytest.mark.parametrize("frame_len", [1, 160, 480])
def test_frame_energy_matches_c(rng, frame_len):
    x = (rng.standard_normal(48_017) * rng.uniform(0, 0.5)).astype(np.float32)
    x[:frame_len] = 0.0  # digital silence reads -120 dB in both
    np.testing.assert_allclose(frame_energy_db(x, frame_len), native.frame_energy_db(x, frame_len), atol=1e-4)


def test_suppress_leak_matches_c(rng):
    speech = rng.random((4, 3000)) < 0.5
    level = rng.uniform(-80, 0, (4, 3000)).astype(np.float32)
    np.testing.assert_array_equal(suppress_leak(speech, level, margin_db=9.0),
                                  native.suppress_leak(speech, level, margin_db=9.0))


def faces_seen(rng, n: int, *, noise_px: float = 0.5) -> np.ndarray:
    """n frames of face landmarks [n, 478, 3]: the canonical rigid points turned, scaled and moved at
    random (yaw/pitch/roll up to 40 degrees), with pixel noise; the other points random."""
    from attunement.cues.face_geometry import CANONICAL, RIGID
    from attunement.cues.headpose import rotation_from_angles

    faces = rng.uniform(0, 640, (n, 478, 3)).astype(np.float32)
    rot = rotation_from_angles(*rng.uniform(-40, 40, (3, n)))
    scale = rng.uniform(0.5, 4.0, n)
    move = rng.uniform([100, 100, -50], [540, 380, 50], (n, 3))
    rigid = scale[:, None, None] * np.einsum("nab,kb->nka", rot, CANONICAL) + move[:, None, :]
    faces[:, RIGID] = rigid + rng.normal(0, noise_px, rigid.shape)
    return faces


@pytest.mark.parametrize("camera", [None, (600.0, 320.0, 240.0)])
def test_head_pose_fit_matches_c(rng, camera):
    from attunement.cues.face_geometry import RIGID
    from attunement.cues.headpose import fit_head_pose

    faces = faces_seen(rng, 300)
    faces[7, RIGID[3], 1] = np.nan  # one missing rigid point: a NaN frame
    faces[8] = np.nan  # no face
    faces[9, RIGID[:20]] += 40.0  # a local expression the robust weights must discount
    got = fit_head_pose(faces, camera=camera)
    want = native.fit_head_pose(faces, camera=camera)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    assert np.isnan(got.scale[[7, 8]]).all() and np.isfinite(got.scale[:7]).all()


@pytest.mark.parametrize("iterations", [0, 1, 5])
def test_head_pose_fit_matches_c_at_any_iteration_count(rng, iterations):
    from attunement.cues.headpose import fit_head_pose

    faces = faces_seen(rng, 50, noise_px=3.0)
    got = fit_head_pose(faces, robust_mm=1.5, iterations=iterations)
    for a, b in zip(got, native.fit_head_pose(faces, robust_mm=1.5, iterations=iterations)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def random_segments(rng, n: int, speakers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n segments of `speakers` voices, sorted by speaker then start (bridge_pauses' order); some
    starting exactly at another's end or a threshold away, some overlapping."""
    k = rng.integers(0, speakers, n).astype(np.int32)
    starts = np.round(rng.uniform(0, n * 1.5, n), 2)  # decimals: ties and exact thresholds happen
    ends = starts + np.round(rng.choice([0.05, 0.25, 0.5, 1.0, 3.0], n) * rng.uniform(0.5, 2.0, n), 2)
    order = np.lexsort((starts, k))
    return starts[order], ends[order], k[order]


@pytest.mark.parametrize("n,speakers", [(0, 1), (1, 1), (2, 2), (500, 2), (3000, 4)])
def test_turn_engine_matches_c(rng, n, speakers):
    from attunement.conversation.turn_kernels import bridge_pauses, run_floor

    s, e, k = random_segments(rng, n, speakers)
    for pause in (0.0, 0.25, 0.7):
        got, want = bridge_pauses(s, e, k, bridge_pause_s=pause), native.bridge_pauses(s, e, k, bridge_pause_s=pause)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    bs, be, bk = bridge_pauses(s, e, k, bridge_pause_s=0.25)
    order = np.lexsort((bk, -(be - bs), bs))  # by start, longer first, then speaker
    args = {"backchannel_max_s": 1.0, "interruption_min_holdover_s": 0.5, "interruption_min_continue_s": 0.5}
    got = run_floor(bs[order], be[order], bk[order], **args)
    want = native.run_floor(bs[order], be[order], bk[order], **args)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
