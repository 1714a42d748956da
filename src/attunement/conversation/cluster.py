"""Spectral clustering of speech chunks by their pairwise distances, with the speaker count from the eigengap.

Affinity exp(-D / median(D)) between chunks, the symmetric normalised Laplacian
L = I - D^-1/2 A D^-1/2, its smallest eigenvalues: with k well separated voices, k of them lie
near 0 and the (k+1)-th jumps (von Luxburg 2007; used for speaker counts by Ning et al. 2006
and Park et al. 2019). The rows of the first k eigenvectors, normalised, are then split by
k-means (Ng, Jordan & Weiss 2001), seeded by farthest-point picking so the result is deterministic.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from ..errors import InputError


def spectral_clusters(distances: np.ndarray, *, num_speakers: int | None = None, min_speakers: int = 2,
                      max_speakers: int = 6, keep: float = 1.0,
                      first_gap_weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Cluster of each item int64 [n] (0-based, by first appearance) and the Laplacian's eigenvalues float64 [<= max+1].

    `distances` float [n, n], symmetric, >= 0. `num_speakers` fixes the count, else it is the
    eigengap's, between `min_speakers` and `max_speakers` (and at most n). `keep` < 1 keeps
    only each item's nearest fraction of neighbours in the affinity, symmetrised (Park et al.
    2019): an odd item then joins its nearest group instead of making a cluster of its own.
    `first_gap_weight` multiplies the eigengap at `min_speakers` before the largest is taken:
    more speakers are then chosen only where their gap is that many times larger (a prior for
    the smallest count).
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be a square matrix, got shape {d.shape}")
    n = d.shape[0]
    if num_speakers is not None and num_speakers < 1:
        raise InputError(f"num_speakers = {num_speakers}: must be >= 1")
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    if n == 1:
        return np.zeros(1, dtype=np.int64), np.zeros(1)
    off = d[np.triu_indices(n, 1)]
    scale = float(np.median(off)) or float(off.max()) or 1.0
    affinity = np.exp(-d / scale)
    np.fill_diagonal(affinity, 0.0)
    if keep < 1.0:
        affinity = prune_affinity(affinity, max(1, round(keep * (n - 1))))
    degree = affinity.sum(axis=1)
    inv = 1.0 / np.sqrt(np.maximum(degree, 1e-300))
    laplacian = np.eye(n) - inv[:, None] * affinity * inv[None, :]
    values, vectors = np.linalg.eigh(laplacian)
    top = min(max_speakers, n - 1)
    if num_speakers is not None:
        k = min(num_speakers, n)
    else:
        lo = min(min_speakers, top)
        gaps = np.diff(values[: top + 1])[lo - 1: top].copy()
        if gaps.size:
            gaps[0] *= first_gap_weight
        k = lo + int(np.argmax(gaps)) if top >= lo else max(lo, 1)
    if k <= 1:
        return np.zeros(n, dtype=np.int64), values[: top + 1]
    rows = vectors[:, :k] / np.maximum(np.linalg.norm(vectors[:, :k], axis=1, keepdims=True), 1e-12)
    labels = np.zeros(n, dtype=np.int64)
    _kmeans_cosine(np.ascontiguousarray(rows), k, 50, labels)
    return first_appearance(labels), values[: top + 1]


def prune_affinity(affinity: np.ndarray, neighbours: int) -> np.ndarray:
    """Keep each row's `neighbours` largest entries of float [n, n] (zero the rest), then (A + A^T) / 2."""
    a = np.asarray(affinity, dtype=np.float64)
    cut = -np.sort(-a, axis=1)[:, min(neighbours, a.shape[1]) - 1: min(neighbours, a.shape[1])]
    kept = np.where(a >= cut, a, 0.0)
    return 0.5 * (kept + kept.T)


def first_appearance(labels: np.ndarray) -> np.ndarray:
    """Relabel int labels [n] so that 0 is the first seen, 1 the next new one, ... (negative stays negative)."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, -1, dtype=np.int64)
    seen: dict[int, int] = {}
    for old in labels[labels >= 0]:
        seen.setdefault(int(old), len(seen))
    for old, new in seen.items():
        out[labels == old] = new
    return out


@kernel
def _kmeans_cosine(x, k, iterations, labels):
    """Spherical k-means of unit rows x [n, d] into `labels` [n]; seeds: row 0, then farthest points."""
    n, d = x.shape
    centres = np.zeros((k, d))
    centres[0] = x[0]
    best = np.full(n, -np.inf)
    for c in range(1, k):
        far, far_sim = 0, np.inf
        for i in range(n):
            s = 0.0
            for a in range(d):
                s += x[i, a] * centres[c - 1, a]
            if s > best[i]:
                best[i] = s
            if best[i] < far_sim:
                far_sim, far = best[i], i
        centres[c] = x[far]
    for _ in range(iterations):
        changed = False
        for i in range(n):
            top, top_s = 0, -np.inf
            for c in range(k):
                s = 0.0
                for a in range(d):
                    s += x[i, a] * centres[c, a]
                if s > top_s:
                    top, top_s = c, s
            if labels[i] != top:
                labels[i] = top
                changed = True
        sums = np.zeros((k, d))
        for i in range(n):
            for a in range(d):
                sums[labels[i], a] += x[i, a]
        for c in range(k):
            norm = np.sqrt(np.sum(sums[c] ** 2))
            if norm > 0:
                centres[c] = sums[c] / norm
        if not changed and _ > 0:
            break
