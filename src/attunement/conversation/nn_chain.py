"""The bookkeeping both agglomerative clusterings share (neural_cluster.ahc_average, vbx.ahc_centroid):
each active cluster's nearest neighbour, the closest pair, and the neighbours a merge changes.
Distances in whatever unit the caller's matrix has; `dist` [n, n] symmetric, its diagonal unused."""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def nearest_all(dist, nn, nnd):
    """Each row's nearest other row into nn (int64 [n]) and its distance into nnd (float64 [n])."""
    n = dist.shape[0]
    for i in range(n):
        nnd[i] = np.inf
        for j in range(n):
            if j != i and dist[i, j] < nnd[i]:
                nnd[i] = dist[i, j]
                nn[i] = j


@kernel
def closest_pair(active, nn, nnd):
    """(a, b, distance) of the closest active pair, a < b (the first such row on ties)."""
    a = -1
    best = np.inf
    for r in range(active.shape[0]):
        if active[r] and (a < 0 or nnd[r] < best):
            best = nnd[r]
            a = r
    b = nn[a]
    if b < a:
        a, b = b, a
    return a, b, best


@kernel
def refresh_nearest(dist, active, nn, nnd, a, b):
    """After b was merged into a (b inactive, a's distances updated): rescan the rows whose nearest
    was a or b (and a itself); the others only compare with the new a."""
    n = dist.shape[0]
    for r in range(n):
        if not active[r]:
            continue
        if r == a or nn[r] == a or nn[r] == b:
            nnd[r] = np.inf
            for j in range(n):
                if active[j] and j != r and dist[r, j] < nnd[r]:
                    nnd[r] = dist[r, j]
                    nn[r] = j
        elif dist[r, a] < nnd[r]:
            nnd[r] = dist[r, a]
            nn[r] = a
