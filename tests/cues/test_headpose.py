"""cues/headpose.py's line of sight and angles against tests/naive (the fit itself: test_face.py)."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.cues import headpose
from tests import naive


def test_line_of_sight_by_hand():
    np.testing.assert_allclose(headpose.line_of_sight(np.array([[0.0, 0.0, 1.0]]))[0], np.eye(3), atol=1e-15)
    v = np.array([0.6, 0.0, 0.8])                                    # a turn about the y axis
    rot = headpose.line_of_sight(v[None])[0]
    np.testing.assert_allclose(rot @ [0, 0, 1], v, atol=1e-15)
    np.testing.assert_allclose(rot @ [0, 1, 0], [0, 1, 0], atol=1e-15)   # the smallest rotation keeps the axis


def test_line_of_sight_matches_rodrigues_with_nan_views(rng):
    views = rng.normal(0, 0.4, (50, 3)) + [0, 0, 1]
    views /= np.linalg.norm(views, axis=1, keepdims=True)
    views[[3, 17]] = np.nan                                          # frames without a face
    got = headpose.line_of_sight(views)
    np.testing.assert_allclose(got, naive.line_of_sight(views), atol=1e-12)
    assert np.isnan(got[[3, 17]]).all()
    np.testing.assert_allclose(np.einsum("nij,nkj->nik", got[:3], got[:3]), np.broadcast_to(np.eye(3), (3, 3, 3)),
                               atol=1e-12)
    assert headpose.line_of_sight(np.zeros((0, 3))).shape == (0, 3, 3)
    with pytest.raises(ValueError, match="frames, 3"):
        headpose.line_of_sight(np.zeros(3))


def test_pose_angles_match_reference_with_nan_rotations(rng):
    rots = headpose.rotation_from_angles(*rng.uniform(-70, 70, (3, 40)))
    rots[[0, 9]] = np.nan
    np.testing.assert_allclose(headpose.pose_angles(rots), naive.pose_angles(rots), atol=1e-9)
