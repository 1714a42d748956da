"""attunement.intervals: the runs kernel against tests/naive on hand-made and random flags."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.intervals import bool_runs
from tests import naive


def test_bool_runs_by_hand():
    first, stop = bool_runs(np.array([0, 1, 1, 0, 1], bool))
    assert first.tolist() == [1, 4] and stop.tolist() == [3, 5]   # stop is exclusive
    for flags in (np.zeros(0, bool), np.zeros(4, bool)):
        first, stop = bool_runs(flags)
        assert first.size == stop.size == 0 and first.dtype == stop.dtype == np.int64
    assert [a.tolist() for a in bool_runs(np.ones(3, bool))] == [[0], [3]]


@pytest.mark.parametrize("p", [0.05, 0.5, 0.95])
def test_bool_runs_match_reference(rng, p):
    for n in (1, 2, 3, 57, 500):
        flags = rng.random(n) < p
        got, want = bool_runs(flags), naive.bool_runs(flags)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_bool_runs_rejects_a_matrix():
    with pytest.raises(ValueError, match="1-D"):
        bool_runs(np.zeros((2, 3), bool))
