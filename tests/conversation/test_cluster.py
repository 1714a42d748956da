"""conversation/cluster.py: spectral clustering (its spherical k-means kernel) against tests/naive on
random distance matrices with and without groups (hand-made cases: test_diarize.py)."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.conversation.cluster import spectral_clusters
from tests import naive


def grouped_distances(rng, sizes, *, within=1.0, between=1.6, jitter=0.15) -> np.ndarray:
    who = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(who)
    d = np.where(who[:, None] == who[None, :], within, between) + rng.uniform(0, jitter, (who.size, who.size))
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    return d


@pytest.mark.parametrize("sizes", [(5, 9), (4, 4, 12), (3, 7, 6, 5), (30,)])
def test_spectral_clusters_match_reference(rng, sizes):
    for _ in range(5):
        d = grouped_distances(rng, sizes)
        for kw in ({}, {"num_speakers": 3}, {"keep": 0.4}, {"first_gap_weight": 2.0, "max_speakers": 4}):
            got, _ = spectral_clusters(d, **kw)
            np.testing.assert_array_equal(got, naive.spectral_clusters(d, **kw), err_msg=str(kw))


def test_spectral_clusters_match_reference_without_groups(rng):
    for n in (2, 3, 8, 25):
        x = rng.standard_normal((n, 4))
        d = np.linalg.norm(x[:, None] - x[None, :], axis=2)
        for k in (None, 2, min(n, 5)):
            got, _ = spectral_clusters(d, num_speakers=k)
            np.testing.assert_array_equal(got, naive.spectral_clusters(d, num_speakers=k), err_msg=f"{n} {k}")


def test_kmeans_reference_by_hand():
    x = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.14, 0.99], [-1.0, 0.0]])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert naive.kmeans_cosine(x, 3).tolist() == [0, 0, 2, 2, 1]    # seeds: row 0, the far row 4, then row 2
