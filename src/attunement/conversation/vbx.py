"""VBx clustering of speaker embeddings, as pyannote's speaker-diarization-community-1 does it.

Landini, Profant, Diez, Burget (2022), "Bayesian HMM clustering of x-vector sequences (VBx) in
speaker diarization", Computer Speech & Language 71; pyannote.audio 4 `VBxClustering` with
community-1's published hyper-parameters (threshold 0.6, Fa 0.07, Fb 0.8, 20 iterations):

1. `Plda.transform`: each 256-d embedding centred, length-normalised, LDA to 128-d, centred,
   length-normalised again, then into the PLDA space where the within-speaker covariance is the
   identity and the across-speaker one diagonal (`Plda.phi`). Arrays from the wheel (models.load_plda).
2. `ahc_centroid` + `flat_clusters`: centroid-linkage agglomerative clustering of the unit
   embeddings on the Euclidean distance, cut at `threshold`: the initial speakers.
3. `vbx`: variational Bayes on a mixture of speakers with a PLDA prior (the GMM form: pyannote
   dropped the HMM's speaker-turn transitions, loopP, because window embeddings are not a
   frame sequence); speakers whose prior falls to ~0 are dropped, which sets the count.
4. `kmeans` (initialised from the tree cut at exactly k clusters, deterministic): where the
   count must be k (a forced count, or VBx's count outside [min, max]).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._numba import kernel
from ..errors import InputError
from .nn_chain import closest_pair, nearest_all, refresh_nearest

#: community-1's published VBxClustering hyper-parameters (pyannote/speaker-diarization-community-1 config.yaml)
THRESHOLD = 0.6
FA = 0.07
FB = 0.8
MAX_ITERS = 20
#: softmax sharpness of the one-hot AHC initialisation (pyannote cluster_vbx init_smoothing)
INIT_SMOOTHING = 7.0
#: a speaker is kept while its prior exceeds this (pyannote: sp > 1e-7)
MIN_PRIOR = 1e-7


@dataclass(frozen=True)
class Plda:
    """x-vector transform and PLDA: mean1 [256], lda [256, 128], mean2 [128], mu [128],
    tr [128, 128] (rows: PLDA directions, by falling across-speaker variance), phi [128]."""

    mean1: np.ndarray
    lda: np.ndarray
    mean2: np.ndarray
    mu: np.ndarray
    tr: np.ndarray
    phi: np.ndarray

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> Plda:
        """From the wheel's arrays (xvec_mean1, xvec_mean2, xvec_lda, plda_mu, plda_psi, plda_tr).

        The within (W) and across (B) speaker covariances implied by (tr, psi) are diagonalised
        jointly (B v = lambda W v, v' W v = 1), largest lambda first, as BUT's vbx_setup does.
        """
        tr = np.asarray(a["plda_tr"], dtype=np.float64)
        psi = np.asarray(a["plda_psi"], dtype=np.float64)
        w = np.linalg.inv(tr.T @ tr)
        b = np.linalg.inv((tr.T / psi) @ tr)
        lam, vec = generalized_eigh(b, w)
        return cls(np.asarray(a["xvec_mean1"], np.float64), np.asarray(a["xvec_lda"], np.float64),
                   np.asarray(a["xvec_mean2"], np.float64), np.asarray(a["plda_mu"], np.float64),
                   vec.T[::-1].copy(), lam[::-1].copy())

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Embeddings float [n, 256] -> float64 [n, 128] in the PLDA space."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.mean1.shape[0]:
            raise InputError(f"PLDA transform needs [n, {self.mean1.shape[0]}] embeddings; got shape {x.shape}")
        y = _unit(x - self.mean1) * np.sqrt(self.lda.shape[0])
        y = _unit(y @ self.lda - self.mean2) * np.sqrt(self.lda.shape[1])
        return (y - self.mu) @ self.tr.T


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def generalized_eigh(b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric-definite eigenproblem b v = lam w v (w positive definite): (lam ascending, v [d, d]
    with columns normalised so that v' w v = I), through the Cholesky factor of w."""
    chol = np.linalg.cholesky(w)
    inv = np.linalg.inv(chol)
    lam, u = np.linalg.eigh(inv @ b @ inv.T)
    return lam, inv.T @ u


@lru_cache(maxsize=1)
def shipped_plda() -> Plda:
    """community-1's PLDA from the installed wheel (verified by models.load_plda), once per process."""
    from ..models import load_plda
    return Plda.from_arrays(load_plda())


# ---------------------------------------------------------------- AHC initialisation


def ahc_centroid(x: np.ndarray) -> np.ndarray:
    """Centroid-linkage agglomerative clustering of the rows of x [n, d] after length
    normalisation (Euclidean distance between cluster means, as scipy's `linkage(method="centroid")`).

    Returns float64 [n - 1, 3]: merge s joins cluster slot b (column 1) into slot a (column 0)
    at distance column 2 (may decrease: centroid linkage is not monotone)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"ahc_centroid needs [n, d] vectors; got shape {x.shape}")
    n = x.shape[0]
    out = np.zeros((max(n - 1, 0), 3))
    if n < 2:
        return out
    _ahc_centroid(np.ascontiguousarray(_unit(x)), out)
    return out


@kernel
def _ahc_centroid(x, out):
    n, d = x.shape
    cent = x.copy()
    size = np.ones(n)
    active = np.ones(n, dtype=np.bool_)
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            s = 0.0
            for t in range(d):
                s += (x[i, t] - x[j, t]) ** 2
            dist[i, j] = np.sqrt(s)
            dist[j, i] = dist[i, j]
    nn = np.zeros(n, dtype=np.int64)
    nnd = np.full(n, np.inf)
    nearest_all(dist, nn, nnd)
    for s in range(n - 1):
        a, b, best = closest_pair(active, nn, nnd)
        out[s, 0] = a
        out[s, 1] = b
        out[s, 2] = best
        active[b] = False
        total = size[a] + size[b]
        for t in range(d):
            cent[a, t] = (size[a] * cent[a, t] + size[b] * cent[b, t]) / total
        size[a] = total
        for r in range(n):
            if active[r] and r != a:
                q = 0.0
                for t in range(d):
                    q += (cent[r, t] - cent[a, t]) ** 2
                dist[a, r] = np.sqrt(q)
                dist[r, a] = dist[a, r]
        refresh_nearest(dist, active, nn, nnd, a, b)


def flat_clusters(merges: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """Labels 0..k-1 of the largest subtrees none of whose merges lies above `threshold`
    (scipy's fcluster(criterion="distance"), which also holds for non-monotone trees)."""
    parent = np.arange(n)
    clean = np.ones(n, dtype=np.bool_)  # every merge inside the slot's current subtree is <= threshold
    for s in range(merges.shape[0]):
        a, b, h = int(merges[s, 0]), int(merges[s, 1]), float(merges[s, 2])
        clean[a] = clean[a] and clean[b] and h <= threshold
        if clean[a]:
            parent[parent == b] = a
    _, labels = np.unique(parent, return_inverse=True)
    return labels.astype(np.int64)


def cut_clusters(merges: np.ndarray, n: int, k: int) -> np.ndarray:
    """Labels 0..k-1 after the first n - k merges (scipy's cut_tree(n_clusters=k))."""
    if not 1 <= k <= n:
        raise InputError(f"cannot cut {n} embeddings into {k} clusters")
    parent = np.arange(n)
    for s in range(n - k):
        parent[parent == int(merges[s, 1])] = int(merges[s, 0])
    _, labels = np.unique(parent, return_inverse=True)
    return labels.astype(np.int64)


# ---------------------------------------------------------------- variational Bayes


@dataclass(frozen=True)
class VbxResult:
    """gamma float64 [n, k]: responsibilities; pi float64 [k]: speaker priors; elbo [iterations]."""

    gamma: np.ndarray
    pi: np.ndarray
    elbo: np.ndarray


def vbx(x: np.ndarray, phi: np.ndarray, gamma: np.ndarray, *, fa: float = FA, fb: float = FB,
        max_iters: int = MAX_ITERS, epsilon: float = 1e-4) -> VbxResult:
    """Mean-field VB of a speaker mixture with PLDA speaker models (Landini et al. 2022, eqs. 16-25).

    x float [n, D] in the PLDA space; phi [D] across-speaker variances; gamma [n, k] the initial
    responsibilities (rows sum to 1). Fa scales the data's statistics, Fb the speakers' prior:
    together they set how readily two groups stay two speakers. Stops when the ELBO gains < epsilon.
    """
    x = np.asarray(x, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    gamma = np.array(gamma, dtype=np.float64)
    if x.ndim != 2 or phi.shape != (x.shape[1],) or gamma.ndim != 2 or gamma.shape[0] != x.shape[0]:
        raise InputError(f"vbx needs x [n, D], phi [D], gamma [n, k]; got {x.shape}, {phi.shape}, {gamma.shape}")
    if not (fa > 0 and fb > 0 and max_iters >= 1):
        raise InputError(f"vbx: Fa = {fa}, Fb = {fb}, max_iters = {max_iters}: must be > 0, > 0, >= 1")
    d = x.shape[1]
    pi = np.full(gamma.shape[1], 1.0 / gamma.shape[1])
    g = -0.5 * ((x ** 2).sum(axis=1, keepdims=True) + d * np.log(2 * np.pi))  # (23), per embedding
    rho = x * np.sqrt(phi)  # (18)
    elbo: list[float] = []
    for it in range(max_iters):
        inv_l = 1.0 / (1.0 + fa / fb * gamma.sum(axis=0)[:, None] * phi)  # (17) [k, D]
        alpha = fa / fb * inv_l * (gamma.T @ rho)  # (16)
        log_p = fa * (rho @ alpha.T - 0.5 * (inv_l + alpha ** 2) @ phi + g)  # (23) [n, k]
        lp = log_p + np.log(pi + 1e-8)
        top = lp.max(axis=1, keepdims=True)
        log_px = top[:, 0] + np.log(np.exp(lp - top).sum(axis=1))
        gamma = np.exp(lp - log_px[:, None])
        pi = gamma.sum(axis=0)
        pi /= pi.sum()
        elbo.append(float(log_px.sum() + fb * 0.5 * np.sum(np.log(inv_l) - inv_l - alpha ** 2 + 1)))  # (25)
        if it > 0 and elbo[-1] - elbo[-2] < epsilon:
            break
    return VbxResult(gamma, pi, np.array(elbo))


def one_hot_init(labels: np.ndarray, smoothing: float = INIT_SMOOTHING) -> np.ndarray:
    """Initial responsibilities [n, k] from hard labels: softmax(smoothing x one-hot) per row."""
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    q = np.zeros((labels.size, k))
    q[np.arange(labels.size), labels] = smoothing
    q = np.exp(q - q.max(axis=1, keepdims=True))
    return q / q.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- a fixed count


def kmeans(x: np.ndarray, labels: np.ndarray, *, iterations: int = 100) -> np.ndarray:
    """Lloyd's k-means on the unit rows of x [n, d] from the initial partition `labels` (0..k-1,
    all used): int64 [n] with every one of the k clusters non-empty (an emptied cluster takes the
    point farthest from its centroid)."""
    u = _unit(np.asarray(x, dtype=np.float64))
    labels = np.asarray(labels, dtype=np.int64).copy()
    k = int(labels.max()) + 1
    for _ in range(iterations):
        cent = np.stack([u[labels == c].mean(axis=0) for c in range(k)])
        d2 = ((u[:, None, :] - cent[None]) ** 2).sum(axis=2)
        new = np.argmin(d2, axis=1)
        for c in range(k):
            if not (new == c).any():
                spare = np.bincount(new, minlength=k)[new] > 1  # points whose cluster can give one away
                far = int(np.argmax(np.where(spare, d2[np.arange(u.shape[0]), new], -1.0)))
                new[far] = c
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


# ---------------------------------------------------------------- the whole clustering


@dataclass(frozen=True)
class VbxClusters:
    """labels int64 [n] (hard, 0..k-1); weights float64 [n, k] (each embedding's share in each
    speaker's centroid: VBx responsibilities, or one-hot after k-means); `by` "vbx" or "kmeans"."""

    labels: np.ndarray
    weights: np.ndarray
    by: str


def vbx_clusters(x: np.ndarray, plda: Plda, *, threshold: float = THRESHOLD, fa: float = FA, fb: float = FB,
                 num_speakers: int | None = None, min_speakers: int = 1, max_speakers: int = 20) -> VbxClusters:
    """Speakers of the embeddings x [n, 256] (n >= 2): AHC at `threshold`, then VBx; when
    `num_speakers` is given and VBx found another count, or VBx's count lies outside
    [min_speakers, max_speakers], k-means at exactly that count (or n, if fewer embeddings)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 2:
        raise InputError(f"vbx clustering needs at least 2 embeddings; got {n}")
    merges = ahc_centroid(x)
    init = flat_clusters(merges, n, threshold)
    res = vbx(plda.transform(x), plda.phi, one_hot_init(init), fa=fa, fb=fb)
    kept = np.flatnonzero(res.pi > MIN_PRIOR)
    weights = res.gamma[:, kept]
    k = kept.size
    want = num_speakers if num_speakers is not None else int(np.clip(k, min_speakers, max_speakers))
    want = min(want, n)
    if want == k:
        return VbxClusters(np.argmax(weights, axis=1).astype(np.int64), weights, "vbx")
    labels = kmeans(x, cut_clusters(merges, n, want))
    return VbxClusters(labels, np.eye(want)[labels], "kmeans")
