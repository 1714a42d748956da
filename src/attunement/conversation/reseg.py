"""Frame-level re-segmentation: one full-covariance Gaussian per speaker, smoothed likelihoods, Viterbi.

Chunk clustering fixes who is who only to within a chunk (2 s); re-segmentation moves every
boundary to the 10 ms frame where the voices' likelihoods cross. Each speaker's Gaussian is
fitted to the frames now labelled theirs (shrunk toward the prior covariance), frame
log-likelihoods are averaged over a sliding window (a second of speech carries the voice; one
frame mostly carries the phone), and the best path with a fixed cost per speaker change is
found by Viterbi. An overlap detector then gives a frame a second speaker where two voices'
smoothed likelihoods are nearly equal (the frame fits both as well: both are heard).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel


def speaker_loglik(features: np.ndarray, labels: np.ndarray, k: int, prior: np.ndarray, *,
                   shrink_frames: float) -> np.ndarray:
    """Log-likelihood per frame and speaker float64 [frames, k]; speaker j's Gaussian from the frames labelled j.

    A speaker with no frames gets -inf everywhere. `features` float [frames, d], `labels` int [frames].
    """
    x = np.asarray(features, dtype=np.float64)
    out = np.full((x.shape[0], k), -np.inf)
    for j in range(k):
        mine = x[labels == j]
        if mine.shape[0] == 0:
            continue
        mu = mine.mean(axis=0)
        centred = mine - mu
        cov = (centred.T @ centred + shrink_frames * prior) / (mine.shape[0] + shrink_frames)
        chol = np.linalg.cholesky(cov)
        z = np.linalg.solve(chol, (x - mu).T)
        out[:, j] = -0.5 * np.einsum("ij,ij->j", z, z) - np.log(np.diag(chol)).sum() - 0.5 * x.shape[1] * np.log(2 * np.pi)
    return out


def box_smooth(x: np.ndarray, width: int, *, runs: np.ndarray | None = None) -> np.ndarray:
    """Centred moving average of the rows of float [n, k] over `width` rows, float64.

    The window is cut at the ends and, given `runs` int [n] (a run id per row, non-decreasing),
    at run edges: speech on either side of a pause is not averaged together.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2 or (runs is not None and np.shape(runs) != (x.shape[0],)):
        raise ValueError(f"x must be 2-D [n, k] and runs [n], got {x.shape} and {np.shape(runs)}")
    lo, hi = run_bounds(x.shape[0], runs)
    out = np.empty_like(x)
    _box_smooth(x, max(int(width), 1), lo, hi, out)
    return out


def run_bounds(n: int, runs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last index int64 [n] of each row's run (the whole range without `runs`)."""
    if runs is None:
        return np.zeros(n, dtype=np.int64), np.full(n, n, dtype=np.int64)
    runs = np.asarray(runs)
    edges = np.flatnonzero(np.diff(runs)) + 1
    starts = np.concatenate(([0], edges)).astype(np.int64)
    ends = np.concatenate((edges, [n])).astype(np.int64)
    which = np.repeat(np.arange(starts.size), ends - starts)
    return starts[which], ends[which]


def viterbi(loglik: np.ndarray, *, switch_penalty: float, free: np.ndarray | None = None) -> np.ndarray:
    """Best state path int64 [n] through loglik float [n, k], paying `switch_penalty` per change of state.

    `free` bool [n]: a change into row t costs nothing where free[t] (the first row after a pause).
    """
    ll = np.ascontiguousarray(loglik, dtype=np.float64)
    path = np.zeros(ll.shape[0], dtype=np.int64)
    free = np.zeros(ll.shape[0], dtype=np.bool_) if free is None else np.ascontiguousarray(free, dtype=np.bool_)
    if ll.ndim != 2 or free.shape != (ll.shape[0],):
        raise ValueError(f"loglik must be 2-D [n, k] and free [n], got {ll.shape} and {free.shape}")
    if ll.shape[0]:
        _viterbi(ll, float(switch_penalty), free, np.zeros(ll.shape, dtype=np.int64), path)
    return path


def second_speaker(loglik: np.ndarray, best: np.ndarray, *, margin: float, min_frames: int) -> np.ndarray:
    """Overlap: the runner-up speaker int64 [n] where its loglik is within `margin` of `best`'s, else -1.

    Runs of the same second speaker shorter than `min_frames` are dropped.
    """
    ll = np.ascontiguousarray(loglik, dtype=np.float64)
    best = np.ascontiguousarray(best, dtype=np.int64)
    if ll.ndim != 2 or best.shape != (ll.shape[0],):
        raise ValueError(f"loglik must be 2-D [n, k] and best [n], got {ll.shape} and {best.shape}")
    if best.size and not (0 <= best.min() and best.max() < ll.shape[1]):
        raise ValueError(f"best must index the {ll.shape[1]} columns of loglik")
    out = np.full(ll.shape[0], -1, dtype=np.int64)
    if ll.shape[0] and ll.shape[1] > 1:
        _second_speaker(ll, best, float(margin), int(min_frames), out)
    return out


@kernel
def _box_smooth(x, width, lo, hi, out):
    n, k = x.shape
    half = width // 2
    acc = np.zeros(k)
    csum = np.zeros((n + 1, k))
    for t in range(n):
        for j in range(k):
            acc[j] += x[t, j]
            csum[t + 1, j] = acc[j]
    for t in range(n):
        a, b = max(t - half, lo[t]), min(t + half + 1, hi[t])
        for j in range(k):
            out[t, j] = (csum[b, j] - csum[a, j]) / (b - a)


@kernel
def _viterbi(ll, penalty, free, back, path):
    n, k = ll.shape
    score = ll[0].copy()
    new = np.empty(k)
    for t in range(1, n):
        top = 0
        for j in range(1, k):
            if score[j] > score[top]:
                top = j
        cost = 0.0 if free[t] else penalty
        for j in range(k):
            if score[j] >= score[top] - cost:
                new[j], back[t, j] = score[j], j
            else:
                new[j], back[t, j] = score[top] - cost, top
        for j in range(k):
            score[j] = new[j] + ll[t, j]
    last = 0
    for j in range(1, k):
        if score[j] > score[last]:
            last = j
    path[n - 1] = last
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]


@kernel
def _second_speaker(ll, best, margin, min_frames, out):
    n, k = ll.shape
    for t in range(n):
        top, top_v = -1, -np.inf
        for j in range(k):
            if j != best[t] and ll[t, j] > top_v:
                top, top_v = j, ll[t, j]
        if top >= 0 and ll[t, best[t]] - top_v < margin:
            out[t] = top
    t = 0
    while t < n:
        if out[t] < 0:
            t += 1
            continue
        e = t
        while e < n and out[e] == out[t]:
            e += 1
        if e - t < min_frames:
            for i in range(t, e):
                out[i] = -1
        t = e
