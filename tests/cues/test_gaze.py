"""cues/gaze.py's angle to a target against tests/naive (eye gaze and eye contact: test_face.py)."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.cues import gaze
from tests import naive


def test_angle_to_by_hand():
    got = gaze.angle_to(np.array([[0.0, 0.0], [30.0, 0.0], [0.0, -20.0], [180.0, 0.0], [np.nan, 3.0]]))
    np.testing.assert_allclose(got[:4], [0, 30, 20, 180], atol=1e-6)
    assert np.isnan(got[4])


@pytest.mark.parametrize("target", [(0.0, 0.0), (4.0, -6.0), (-30.0, 25.0)])
def test_angle_to_matches_reference_with_nan_frames(rng, target):
    g = rng.uniform(-89, 89, (200, 2))
    g[rng.random(200) < 0.1] = np.nan
    g[5, 1] = np.nan                                                  # half a gaze is no gaze
    np.testing.assert_allclose(gaze.angle_to(g, target), naive.angle_to(g, target), atol=1e-6, equal_nan=True)
    with pytest.raises(ValueError, match="frames, 2"):
        gaze.angle_to(np.zeros(2))
