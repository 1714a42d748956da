"""Speakers across windows for the trained diarizer (conversation/neural_diarize.py): clustering of
the local speakers' embeddings, by average-linkage AHC on the cosine distance (the default) or by
community-1's VBx (vbx.py); a forced count is a first-class path of both. Each window's local
speakers are then matched to the clusters, and windows that were not embedded linked to the
clusters by the activity they share with their neighbours."""

from __future__ import annotations

from itertools import permutations

import numpy as np

from .._numba import kernel
from ..errors import InputError
from . import segmentation as sg
from .neural_frames import frame_offsets
from .nn_chain import closest_pair, nearest_all, refresh_nearest
from .neural_records import Settings
from .vbx import shipped_plda, vbx_clusters


def cluster_embeddings(vectors: np.ndarray, which: np.ndarray, train: np.ndarray, windows: int, *,
                       settings: Settings, num_speakers: int | None = None,
                       clean_s: np.ndarray | None = None) -> np.ndarray:
    """Global cluster of each (window, local speaker), int64 [windows, 3] (-1: silent or none).

    `settings.clustering` "ahc" (default): average-linkage AHC of the `train` rows (`cluster_labels`);
    "vbx": VBx (vbx.py) on the embeddings whose speaker talks alone for at least `vbx_min_clean_s`
    (`clean_s`, float [m] seconds, from `alone_seconds`; without it the `train` rows).
    Either way every embedding then goes to a centroid, distinct ones within a window.
    """
    out = np.full((windows, sg.LOCAL_SPEAKERS), -1, dtype=np.int64)
    if vectors.shape[0] == 0:
        return out
    if settings.clustering not in ("vbx", "ahc"):
        raise InputError(f"clustering {settings.clustering!r}: must be 'vbx' or 'ahc'")
    vectors = np.asarray(vectors, dtype=np.float64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if settings.clustering == "vbx":  # on the model's own scale, which the PLDA expects
        centroids = _vbx_centroids(vectors, train, clean_s, settings, num_speakers)
    else:
        centroids = _ahc_centroids(unit, train, settings, num_speakers)
    k = centroids.shape[0]
    sim = np.full((windows, sg.LOCAL_SPEAKERS, k), -np.inf)
    sim[which[:, 0], which[:, 1]] = unit @ centroids.T
    return assign_window_speakers(sim)


def _ahc_centroids(vectors, train, settings, num_speakers) -> np.ndarray:
    tv = vectors[train] if train.any() else vectors
    if num_speakers == 1 or tv.shape[0] == 1:
        labels = np.zeros(tv.shape[0], dtype=np.int64)
    else:
        labels = cluster_labels(tv, threshold=settings.cluster_threshold, min_share=settings.min_cluster_share,
                                num_speakers=num_speakers, min_speakers=settings.min_speakers,
                                max_speakers=settings.max_speakers)
    return _weighted_centroids(tv, np.eye(int(labels.max()) + 1)[labels])


def _vbx_centroids(vectors, train, clean_s, settings, num_speakers) -> np.ndarray:
    rows = train.copy()
    if clean_s is not None:
        rows &= np.asarray(clean_s) >= settings.vbx_min_clean_s - 1e-9
    for fallback in (train, np.ones_like(train)):  # too few with enough speech alone: take what there is
        if rows.sum() >= 2:
            break
        rows = fallback
    tv = vectors[rows]
    if num_speakers == 1 or tv.shape[0] < 2:
        return _weighted_centroids(tv, np.ones((tv.shape[0], 1)))
    got = vbx_clusters(tv, shipped_plda(), threshold=settings.vbx_threshold, fa=settings.vbx_fa, fb=settings.vbx_fb,
                       num_speakers=num_speakers, min_speakers=settings.min_speakers,
                       max_speakers=settings.max_speakers)
    return _weighted_centroids(tv, got.weights)


def _weighted_centroids(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Unit centroids [k, d] of the rows of x weighted by weights [n, k]."""
    c = weights.T @ np.asarray(x, dtype=np.float64) / np.maximum(weights.sum(axis=0)[:, None], 1e-12)
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


def alone_seconds(seg: sg.Segmentation, which: np.ndarray) -> np.ndarray:
    """Seconds each (window, local speaker) of `which` [m, 2] talks with nobody else, float64 [m]."""
    act = seg.activity > 0.5
    alone = (act & (act.sum(axis=2, keepdims=True) == 1)).sum(axis=1)
    which = np.asarray(which, dtype=np.int64).reshape(-1, 2)
    return alone[which[:, 0], which[:, 1]].astype(np.float64) * sg.FRAME_STEP_S


def cluster_labels(x: np.ndarray, *, threshold: float, min_share: float, num_speakers: int | None = None,
                   min_speakers: int = 1, max_speakers: int = 6) -> np.ndarray:
    """Cluster of each unit embedding x [n, d]: int64 [n], 0..k-1.

    Average-linkage AHC on the cosine distance. Clusters of fewer than `min_share` of the n
    embeddings (at least 1) are outliers: each joins the large cluster whose
    centroid it is closest to. The count: large clusters left once merging reaches `threshold`,
    kept within [min_speakers, max_speakers]; with `num_speakers` the deepest cut of the tree
    where exactly that many large clusters exist (or all n if fewer embeddings).
    """
    n = x.shape[0]
    x = np.asarray(x, dtype=np.float64)
    merges = ahc_average(x)
    min_size = max(1, int(np.ceil(min_share * n)))
    large = _large_counts(merges, n, min_size)   # large clusters after s merges, s = 0..n-1
    if num_speakers is None:
        s = int(np.searchsorted(merges[:, 2], threshold, side="right"))
        want = int(np.clip(large[s], min_speakers, max_speakers)) if large[s] > 0 else 1
        if want != large[s]:
            s = _deepest_cut(large, want)
    else:
        want = min(num_speakers, n)
        s = _deepest_cut(large, want)
    labels = _cut(merges, n, s)
    sizes = np.bincount(labels)
    big = np.flatnonzero(sizes >= min_size)
    if big.size == 0 or (num_speakers is not None and big.size != want):
        big = np.argsort(-sizes, kind="stable")[:want]
    cent = np.stack([x[labels == c].mean(axis=0) for c in big])
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
    keep = np.isin(labels, big)
    lut = np.full(sizes.shape[0], -1, dtype=np.int64)
    lut[big] = np.arange(big.size)
    out = lut[labels]
    out[~keep] = np.argmax(x[~keep] @ cent.T, axis=1)
    return out


def _deepest_cut(large: np.ndarray, want: int) -> int:
    """The most merges s with large[s] == want; else the s whose count is closest above, then below."""
    hit = np.flatnonzero(large == want)
    if hit.size:
        return int(hit[-1])
    above = np.flatnonzero(large > want)
    return int(above[-1]) if above.size else 0


def _large_counts(merges: np.ndarray, n: int, min_size: int) -> np.ndarray:
    size = np.ones(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    count = int(min_size <= 1) * n
    large[0] = count
    for s in range(merges.shape[0]):
        a, b = int(merges[s, 0]), int(merges[s, 1])
        count -= int(size[a] >= min_size) + int(size[b] >= min_size)
        size[a] += size[b]
        count += int(size[a] >= min_size)
        large[s + 1] = count
    return large


def _cut(merges: np.ndarray, n: int, s: int) -> np.ndarray:
    """Labels 0..k-1 after the first s merges (slot a absorbs slot b)."""
    parent = np.arange(n)
    for i in range(s):
        parent[parent == int(merges[i, 1])] = int(merges[i, 0])
    _, labels = np.unique(parent, return_inverse=True)
    return labels.astype(np.int64)


def ahc_average(x: np.ndarray) -> np.ndarray:
    """Average-linkage agglomerative clustering of the rows of x [n, d] on the cosine distance.

    Returns float64 [n - 1, 3]: merge s joins slot b (column 1) into slot a (column 0) at
    distance column 2 (non-decreasing: average linkage is reducible)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"ahc_average needs [n, d] vectors; got shape {x.shape}")
    n = x.shape[0]
    out = np.zeros((max(n - 1, 0), 3))
    if n < 2:
        return out
    u = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    dist = 1.0 - u @ u.T
    _ahc_average(dist, out)
    return out


@kernel
def _ahc_average(dist, out):
    n = dist.shape[0]
    active = np.ones(n, dtype=np.bool_)
    size = np.ones(n)
    nn = np.zeros(n, dtype=np.int64)
    nnd = np.full(n, np.inf)
    nearest_all(dist, nn, nnd)
    for s in range(n - 1):
        a, b, best = closest_pair(active, nn, nnd)
        out[s, 0] = a
        out[s, 1] = b
        out[s, 2] = best
        active[b] = False
        for r in range(n):
            if active[r] and r != a:
                d = (size[a] * dist[a, r] + size[b] * dist[b, r]) / (size[a] + size[b])
                dist[a, r] = d
                dist[r, a] = d
        size[a] += size[b]
        refresh_nearest(dist, active, nn, nnd, a, b)


def assign_window_speakers(sim: np.ndarray) -> np.ndarray:
    """Each window's local speakers to distinct clusters, maximising the summed similarity.

    sim : float64 [shape=(windows, local, k)], -inf where the local speaker is silent.
    returns int64 [windows, local]: cluster or -1 (silent; or more talkers than clusters).
    """
    if sim.ndim != 3:
        raise InputError(f"similarities must be [windows, local, k]; got shape {sim.shape}")
    w, local, k = sim.shape
    perms = np.array(list(permutations(range(k + local), local)), dtype=np.int64)
    out = np.full((w, local), -1, dtype=np.int64)
    _assign(np.ascontiguousarray(sim, dtype=np.float64), perms, k, out)
    return out


@kernel
def _assign(sim, perms, k, out):
    w, local, _ = sim.shape
    for i in range(w):
        best = -np.inf
        best_p = -1
        for p in range(perms.shape[0]):
            total = 0.0
            for j in range(local):
                c = perms[p, j]
                if np.isfinite(sim[i, j, 0]):
                    if c >= k:
                        total -= 1e6  # left unassigned: only when talkers outnumber clusters
                    else:
                        total += sim[i, j, c]
            if total > best:
                best = total
                best_p = p
        if best_p < 0:
            continue
        for j in range(local):
            if np.isfinite(sim[i, j, 0]) and perms[best_p, j] < k:
                out[i, j] = perms[best_p, j]


def embedded_windows(windows: int, every: int) -> np.ndarray:
    """Windows whose speakers are embedded: every `every`-th, and the last; int64 ascending."""
    if every < 1:
        raise InputError(f"embed_every = {every}: must be >= 1")
    chosen = np.arange(0, windows, every, dtype=np.int64)
    if chosen.size and chosen[-1] != windows - 1:
        chosen = np.append(chosen, np.int64(windows - 1))
    return chosen


def link_windows(seg: sg.Segmentation, clusters: np.ndarray, embedded: np.ndarray) -> np.ndarray:
    """Clusters of the local speakers of windows that were not embedded, from the embedded
    windows overlapping them: a local speaker takes the cluster whose (embedded) local speakers
    are active on the most of the same frames; one window's speakers get distinct clusters.

    clusters : int64 [windows, 3] (rows of `embedded` filled); returns a filled copy.
    """
    k = int(clusters.max(initial=-1)) + 1
    if k == 0:
        return clusters
    act = np.ascontiguousarray(seg.activity > 0.5)
    is_emb = np.zeros(seg.windows, dtype=np.bool_)
    is_emb[embedded] = True
    votes = np.zeros((seg.windows, sg.LOCAL_SPEAKERS, k))
    _link_votes(act, clusters, frame_offsets(seg.starts), is_emb, votes)
    talks = act.any(axis=1)
    sim = np.where(talks[:, :, None], votes, -np.inf)
    linked = assign_window_speakers(sim)
    out = clusters.copy()
    out[~is_emb] = linked[~is_emb]
    return out


@kernel
def _link_votes(act, clusters, offsets, is_emb, votes):
    """votes[w, s, c] += frames where local speaker s of window w and an embedded window's local
    speaker of cluster c are both active (only for windows w not embedded)."""
    windows, frames, local = act.shape
    for w in range(windows):
        if is_emb[w]:
            continue
        for e in range(windows):
            if not is_emb[e]:
                continue
            shift = offsets[w] - offsets[e]  # frame j of w is frame j + shift of e
            if shift >= frames or shift <= -frames:
                continue
            for j in range(frames):
                je = j + shift
                if je < 0 or je >= frames:
                    continue
                for s in range(local):
                    if not act[w, j, s]:
                        continue
                    for r in range(local):
                        c = clusters[e, r]
                        if c >= 0 and act[e, je, r]:
                            votes[w, s, c] += 1.0
