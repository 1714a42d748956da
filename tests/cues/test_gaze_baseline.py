"""The self-baseline's neighbour count (numba) against the distance matrix it replaces (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.cues.gaze_baseline import neighbour_counts


def _matrix_counts(cand: np.ndarray, pts: np.ndarray, radius: float) -> np.ndarray:
    """The plain numpy form: every candidate's distance to every point, [m, n] at once."""
    d = np.hypot(pts[None, :, 0] - cand[:, None, 0], pts[None, :, 1] - cand[:, None, 1])
    return (d <= radius).sum(axis=1)


@pytest.mark.parametrize("n, m, radius", [(1, 1, 6.0), (50, 7, 6.0), (3000, 400, 6.0), (500, 60, 0.5), (200, 20, 100.0)])
def test_neighbour_counts_equal_the_distance_matrix(n, m, radius):
    rng = np.random.default_rng(n + m)
    pts = np.concatenate([rng.normal(0.0, 3.0, (n // 2, 2)), rng.uniform(-30, 30, (n - n // 2, 2))])
    cand = pts[rng.integers(0, n, m)]
    np.testing.assert_array_equal(neighbour_counts(cand, pts, radius), _matrix_counts(cand, pts, radius))


def test_neighbour_counts_edges():
    none = np.zeros((0, 2))
    assert neighbour_counts(none, np.ones((5, 2)), 6.0).shape == (0,)
    assert neighbour_counts(np.zeros((2, 2)), none, 6.0).tolist() == [0, 0]
    pts = np.array([[3.0, 4.0], [0.0, 0.0], [np.nan, 0.0], [5.0, 0.1]])  # on the radius counts, NaN never
    assert neighbour_counts(np.zeros((1, 2)), pts, 5.0).tolist() == _matrix_counts(np.zeros((1, 2)), pts, 5.0).tolist() == [2]
