"""cues/distance.py and mouth.py kernels against tests/naive: iris diameter, mouth opening and lean
events on hand-made, random and NaN-laden input (a frame with no face is NaN landmarks)."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.cues import distance, mouth
from attunement.cues.face_geometry import EYE_CORNERS, INNER_LIPS, IRIS_RING
from tests import naive


def random_faces(rng, n: int, *, nan_frames=()) -> np.ndarray:
    faces = rng.uniform(0, 640, (n, 478, 3)).astype(np.float32)
    faces[list(nan_frames)] = np.nan
    return faces


def test_iris_and_mouth_by_hand():
    face = np.zeros((478, 3), np.float32)
    for ring, (cx, cy) in zip(IRIS_RING, [(100.0, 50.0), (160.0, 50.0)]):
        face[ring] = [(cx + 6, cy, 0), (cx, cy + 6, 0), (cx - 6, cy, 0), (cx, cy - 6, 0)]  # 12 px across
    assert distance.iris_diameter_px(face)[0] == pytest.approx(12.0)
    face[EYE_CORNERS[0]] = [(90, 50, 0), (110, 50, 0)]
    face[EYE_CORNERS[1]] = [(150, 50, 0), (170, 50, 0)]               # eye centres 60 px apart
    face[INNER_LIPS] = [(130, 100, 0), (130, 109, 4)]                 # lips 9 px apart in x, y; 4 in z
    assert mouth.mouth_opening(face)[0] == pytest.approx(np.hypot(9, 4) / 60)


def test_iris_and_mouth_match_reference_with_nan_frames(rng):
    faces = random_faces(rng, 40, nan_frames=(0, 13, 39))
    faces[7, IRIS_RING[1, 2], 0] = np.nan                             # one iris point lost
    np.testing.assert_allclose(distance.iris_diameter_px(faces), naive.iris_diameter_px(faces), rtol=1e-9,
                               equal_nan=True)
    np.testing.assert_allclose(mouth.mouth_opening(faces), naive.mouth_opening(faces), rtol=1e-9, equal_nan=True)
    assert np.isnan(distance.iris_diameter_px(faces)[[0, 7, 13, 39]]).all()
    assert np.isnan(mouth.mouth_opening(faces)[[0, 13, 39]]).all()


@pytest.mark.parametrize("seed", range(3))
def test_lean_events_match_reference_with_nan_frames(seed):
    rng = np.random.default_rng(seed)
    n = 600
    t = np.cumsum(rng.uniform(0.02, 0.06, n))
    dist = 60 * (1 + np.cumsum(rng.normal(0, 0.01, n)) + 0.1 * np.sin(t / 2))
    dist[rng.random(n) < 0.08] = np.nan
    dist[200:215] = np.nan                                            # the face lost for a while
    settings = dict(baseline_cm=60.0, margin=0.06, release=0.03, hold_s=0.8, max_gap_s=0.2)
    got = distance.lean_events(t, dist, **settings)
    want = naive.lean_events(t, dist, **settings)
    assert [e.kind for e in got] == [w[0] for w in want]
    np.testing.assert_allclose([(e.start, e.end, e.amplitude) for e in got], [w[1:] for w in want], rtol=1e-12)
    assert got, "the random walk should lean somewhere"
