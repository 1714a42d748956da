"""Who spoke when from one shared microphone, with trained models (pyannote community-1 style).

`NeuralDiarizer` is a speaker strategy with the interface of `diarize.Diarizer`:

1. segmentation (segmentation.py): 10 s windows every `nn_step_s`, local speakers per frame,
   two or three at once where they overlap;
2. embeddings (embeddings.py): one WeSpeaker ResNet34 embedding per (window, local speaker)
   from the frames where that speaker talks alone (overlap excluded);
3. clustering: average-linkage agglomerative clustering of the embeddings on the cosine
   distance (`ahc_average`), cut at `nn_cluster_threshold`, or, with `num_speakers`, cut where
   exactly that many clusters are large; clusters of less than `nn_min_cluster_share` of the
   embeddings are outliers, folded into the nearest large one; each window's local speakers
   then go to distinct clusters (best total cosine, `assign_window_speakers`);
4. reconstruction (`reconstruct`): per output frame (16.875 ms) the number of speakers is
   the windows' mean count of local speakers, rounded; that many clusters with the largest
   summed activity speak, so overlapped speech stays overlap.

Speech (`speech_activity`) is where at least one speaker talks: the model's own voice activity.
Details and measurements: docs/diarization.md; settings: [diarization] nn_* in defaults.toml.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import permutations
from typing import ClassVar

import numpy as np

from .._numba import kernel
from ..config import DiarizationConfig
from ..errors import InputError
from ..records import AudioBlock, Segment, VoiceActivity
from . import embeddings as emb
from . import segmentation as sg

log = logging.getLogger(__name__)

#: Audio is kept in chunks of this many samples (60 s) while it streams in.
CHUNK = 960000
#: Output frame grid: the segmentation model's frames.
HOP_S = sg.FRAME_STEP_S
#: fbank frames per 10 s window (Kaldi snip_edges: 1 + (160000 - 400) // 160)
WINDOW_FBANK = emb.frame_count(sg.WINDOW)
#: shortest input given to the embedding model (frames): its pooling needs a few frames after 8x downsampling
MIN_EMBED_FRAMES = 50
#: padded frames per embedding batch (4 full windows: about 160 MB of activations at the peak) and most inputs
BATCH_FRAMES = 4000
MAX_BATCH = 32


@dataclass(frozen=True)
class Settings:
    """The trained pipeline's settings (from DiarizationConfig's nn_* keys; units in defaults.toml)."""

    step_s: float = 2.5
    cluster_threshold: float = 0.5
    min_cluster_share: float = 0.05
    min_clean_s: float = 0.5
    trim_s: float = 0.0
    embed_every: int = 4
    threads: int = 2
    embed_batch: int = 32  # most inputs per model run; batches are sized by BATCH_FRAMES
    min_speakers: int = 1
    max_speakers: int = 6

    @classmethod
    def from_config(cls, config: DiarizationConfig) -> Settings:
        return cls(step_s=config.nn_step_s, cluster_threshold=config.nn_cluster_threshold,
                   min_cluster_share=config.nn_min_cluster_share, min_clean_s=config.nn_min_clean_s,
                   trim_s=config.nn_trim_s, embed_every=config.nn_embed_every, threads=config.nn_threads, min_speakers=config.min_speakers, max_speakers=config.max_speakers)


@dataclass(frozen=True)
class Diarization:
    """Frame-level result: `active` bool [shape=(frames, speakers)] on the HOP_S grid from `t0`,
    speakers numbered by first appearance; `count` int8 [frames] speakers the model hears."""

    active: np.ndarray
    count: np.ndarray
    t0: float = 0.0
    trim_s: float = 0.0

    def segments(self, *, end_s: float | None = None) -> list[Segment]:
        """Segments speaker1.. (may overlap in time), sorted; each edge moved `trim_s` inward."""
        return active_to_segments(self.active, t0=self.t0, end_s=end_s, trim_s=self.trim_s)


class _Models:
    """Both models, opened once per process and settings (sessions are reusable and thread-safe)."""

    cache: ClassVar[dict[tuple[int, int], tuple[sg.Segmenter, emb.Embedder]]] = {}

    @classmethod
    def get(cls, threads: int, batch: int) -> tuple[sg.Segmenter, emb.Embedder]:
        key = (threads, batch)
        if key not in cls.cache:
            cls.cache[key] = (sg.Segmenter(threads=threads), emb.Embedder(threads=threads, batch=batch))
        return cls.cache[key]


# ---------------------------------------------------------------- the strategy


class NeuralDiarizer:
    """Mono speaker diarization with the trained models; the interface of `diarize.Diarizer`.

    `feed` keeps the audio itself (mono float32 at 16 kHz: 64 kB a second, 230 MB an hour) and
    the model-free Diarizer's MFCC frames (27 MB an hour); `finish` runs the pipeline.
    `num_speakers` forces the count (1-20; clusters beyond max_speakers only when forced).
    The segmentation model decides where speech is (`speech_activity` gives it as a
    VoiceActivity); the VoiceActivity given to `finish` (may be None) is only compared with it:
    where the model hears under `nn_min_heard` of the detector's speech (speech at the noise
    floor, which it was not trained to hear) the model-free Diarizer's result is returned
    instead, and `used` says "mfcc" (else "neural").
    """

    def __init__(self, *, config: DiarizationConfig, num_speakers: int | None = None):
        if num_speakers is not None and not 1 <= num_speakers <= 20:
            raise InputError(f"number of speakers {num_speakers}: must be between 1 and 20")
        self.config = config
        self.num_speakers = num_speakers
        self.settings = Settings.from_config(config)
        self._blocks: list[np.ndarray] = []
        self._fill = 0
        self._t0: float | None = None
        self.result: Diarization | None = None
        self.used = ""
        self._fallback = None
        if config.nn_min_heard > 0:
            from .diarize import Diarizer
            self._fallback = Diarizer(config=config, num_speakers=num_speakers)

    def feed(self, block: AudioBlock) -> None:
        """Take the next block (float32 [channels, n] at 16 kHz; channels averaged: one microphone)."""
        if block.rate != sg.RATE:
            raise InputError(f"diarization needs 16000 Hz audio; block at t0={block.t0:.3f} s is {block.rate} Hz")
        if self._t0 is None:
            self._t0 = float(block.t0)
        samples = np.asarray(block.samples[0] if block.channels == 1 else block.samples.mean(axis=0),
                             dtype=np.float32)
        self._append(samples)
        if self._fallback is not None:
            self._fallback.feed(AudioBlock(samples[None], block.t0, block.rate))

    def _append(self, samples: np.ndarray) -> None:
        # into chunks of CHUNK samples (4 MB: allocated and freed outside the small-object heap,
        # so joining them in audio() frees each as it is copied and the peak stays one copy)
        at = 0
        while at < samples.shape[0]:
            if not self._blocks or self._fill == self._blocks[-1].shape[0]:
                self._blocks.append(np.empty(CHUNK, dtype=np.float32))
                self._fill = 0
            n = min(samples.shape[0] - at, CHUNK - self._fill)
            self._blocks[-1][self._fill:self._fill + n] = samples[at:at + n]
            self._fill += n
            at += n

    def audio(self) -> np.ndarray:
        """All audio fed so far, mono float32 [n] (joined once: peak memory one copy plus one chunk)."""
        if not self._blocks:
            return np.zeros(0, dtype=np.float32)
        n = (len(self._blocks) - 1) * CHUNK + self._fill
        if len(self._blocks) > 1 or n != self._blocks[0].shape[0]:
            out = np.empty(n, dtype=np.float32)
            at = 0
            self._blocks.reverse()
            while self._blocks:
                b = self._blocks.pop()
                take = min(b.shape[0], n - at)
                out[at:at + take] = b[:take]
                at += take
            self._blocks, self._fill = [out], n
        return self._blocks[0]

    def finish(self, activity: VoiceActivity | None, duration_s: float) -> list[Segment]:
        """Speaker segments, sorted; ids speaker1.. by first appearance; overlapping where voices overlap."""
        t0 = self._t0 if self._t0 is not None else 0.0
        self.result = diarize_audio(self.audio(), settings=self.settings, num_speakers=self.num_speakers, t0=t0)
        end = duration_s if duration_s > 0 else None
        if activity is not None and self._fallback is not None:
            heard = heard_share(self.result, activity)
            if heard < self.config.nn_min_heard:
                log.warning("the speech model hears %.0f %% of the detected speech (quiet or far voices); "
                            "telling voices apart without it", 100 * heard)
                self.used = "mfcc"
                return self._fallback.finish(activity, duration_s)
        self.used = "neural"
        return self.result.segments(end_s=end)

    def speech_activity(self) -> VoiceActivity:
        """After `finish`: the segmentation model's speech as a VoiceActivity (see `speech_activity`)."""
        if self.result is None:
            raise InputError("speech_activity() is available after finish()")
        return speech_activity(self.result, self.audio())


# ---------------------------------------------------------------- pipeline


def diarize_audio(x: np.ndarray, *, settings: Settings = Settings(), num_speakers: int | None = None,
                  t0: float = 0.0) -> Diarization:
    """The whole pipeline on mono 16 kHz float32 audio x [n]."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise InputError(f"diarization needs mono samples [n]; got shape {x.shape}")
    if x.shape[0] == 0:
        return Diarization(np.zeros((0, 0), dtype=np.bool_), np.zeros(0, dtype=np.int8), t0)
    segmenter, embedder = _Models.get(settings.threads, settings.embed_batch)
    seg = segmenter.segment(x, step_s=settings.step_s)
    chosen = embedded_windows(seg.windows, settings.embed_every)
    vectors, which, train = window_embeddings(x, seg, embedder, min_clean_s=settings.min_clean_s, windows=chosen)
    clusters = cluster_embeddings(vectors, which, train, seg.windows, settings=settings, num_speakers=num_speakers)
    if chosen.size < seg.windows:
        clusters = link_windows(seg, clusters, chosen)
    active, count = reconstruct(seg, clusters, max_count=num_speakers or settings.max_speakers)
    active = active[:, first_seen_order(active)]
    return Diarization(active, count, t0, settings.trim_s)


def window_embeddings(x: np.ndarray, seg: sg.Segmentation, embedder: emb.Embedder, *, min_clean_s: float,
                      windows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings of each (window, local speaker) that talks: float32 [m, 256], which int64 [m, 2]
    (window, local speaker), train bool [m] (at least `min_clean_s` of speech alone: used for
    clustering; the others are embedded from all their frames, overlap included, and only assigned).
    Only the windows listed in `windows` (int64, default all) are embedded."""
    feats = emb.fbank(x)
    need = int(seg.starts[-1]) // emb.SHIFT + WINDOW_FBANK
    if feats.shape[0] < need:  # the last window runs past the end: Kaldi frames of zeros there
        feats = np.concatenate([feats, np.full((need - feats.shape[0], emb.N_MELS), np.log(emb.EPS), np.float32)])
    act = seg.activity > 0.5
    alone = act & (act.sum(axis=2, keepdims=True) == 1)
    min_clean = int(np.ceil(min_clean_s / sg.FRAME_STEP_S))
    # nearest seg frame of each fbank frame (pyannote interpolates the mask the same way)
    to_seg = np.minimum((np.arange(WINDOW_FBANK) * sg.FRAMES) // WINDOW_FBANK, sg.FRAMES - 1)
    rows, masks, train = [], [], []
    for w in (range(seg.windows) if windows is None else windows):
        for k in range(sg.LOCAL_SPEAKERS):
            clean = int(alone[w, :, k].sum())
            if clean >= min_clean:
                rows.append((w, k)); masks.append(alone[w, :, k]); train.append(True)
            elif act[w, :, k].any():
                rows.append((w, k)); masks.append(act[w, :, k]); train.append(False)
    which = np.array(rows, dtype=np.int64).reshape(-1, 2)
    vectors = np.zeros((which.shape[0], 256), dtype=np.float32)
    # only the speaker's own fbank frames are fed (cost grows with frames): gather them, batch
    # pairs of similar length, pad with weight-0 frames
    picks = [np.flatnonzero(m[to_seg]) for m in masks]
    order = np.argsort([p.size for p in picks], kind="stable")
    firsts = seg.starts // emb.SHIFT
    for idx in _batches(np.array([max(picks[i].size, MIN_EMBED_FRAMES) for i in order]), order):
        longest = max(max(picks[i].size for i in idx), MIN_EMBED_FRAMES)
        f = np.zeros((idx.size, longest, emb.N_MELS), dtype=np.float32)
        wts = np.zeros((idx.size, longest), dtype=np.float32)
        for r, i in enumerate(idx):
            w = int(which[i, 0])
            window = emb.normalise(feats[firsts[w]:firsts[w] + WINDOW_FBANK])
            p = picks[i]
            f[r, : p.size] = window[p]
            wts[r, : p.size] = 1.0
        vectors[idx] = embedder.embed(f, wts)
    return vectors, which, np.array(train, dtype=np.bool_)


def cluster_embeddings(vectors: np.ndarray, which: np.ndarray, train: np.ndarray, windows: int, *,
                       settings: Settings, num_speakers: int | None = None) -> np.ndarray:
    """Global cluster of each (window, local speaker), int64 [windows, 3] (-1: silent or none)."""
    out = np.full((windows, sg.LOCAL_SPEAKERS), -1, dtype=np.int64)
    if vectors.shape[0] == 0:
        return out
    tv = vectors[train] if train.any() else vectors
    if num_speakers == 1 or tv.shape[0] == 1:
        labels = np.zeros(tv.shape[0], dtype=np.int64)
    else:
        labels = cluster_labels(tv, threshold=settings.cluster_threshold, min_share=settings.min_cluster_share,
                                num_speakers=num_speakers, min_speakers=settings.min_speakers,
                                max_speakers=settings.max_speakers)
    k = int(labels.max()) + 1
    centroids = np.zeros((k, tv.shape[1]), dtype=np.float64)
    np.add.at(centroids, labels, tv)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    sim = np.full((windows, sg.LOCAL_SPEAKERS, k), -np.inf)
    sim[which[:, 0], which[:, 1]] = vectors.astype(np.float64) @ centroids.T
    return assign_window_speakers(sim)


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
    for i in range(n):
        for j in range(n):
            if j != i and dist[i, j] < nnd[i]:
                nnd[i] = dist[i, j]
                nn[i] = j
    for s in range(n - 1):
        a = -1
        best = np.inf
        for r in range(n):
            if active[r] and (a < 0 or nnd[r] < best):
                best = nnd[r]
                a = r
        b = nn[a]
        if b < a:
            a, b = b, a
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


def _batches(lengths: np.ndarray, order: np.ndarray) -> list[np.ndarray]:
    """Consecutive groups of `order` (sorted by ascending `lengths`, frames) whose padded size,
    count x longest, stays within BATCH_FRAMES (at most MAX_BATCH inputs): the model's memory
    grows with it (ResNet34's first stage holds 32 x 80 floats per frame per layer)."""
    out, a = [], 0
    while a < order.size:
        b = a + 1
        while b < order.size and b - a < MAX_BATCH and (b + 1 - a) * lengths[b] <= BATCH_FRAMES:
            b += 1
        out.append(order[a:b])
        a = b
    return out


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


def frame_offsets(starts: np.ndarray) -> np.ndarray:
    """Output frame of each window's first frame, int64 [windows] (nearest on the HOP_S grid)."""
    return np.round(np.asarray(starts) / sg.RATE / HOP_S).astype(np.int64)


def reconstruct(seg: sg.Segmentation, clusters: np.ndarray, *, max_count: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Frame-level speakers from the windows: (active bool [frames, k], count int8 [frames]).

    count = the windows' mean number of local speakers at the frame, rounded (at most
    `max_count`); the `count` clusters with the largest summed activity there are active.
    """
    if clusters.shape != seg.activity.shape[::2]:
        raise InputError(f"clusters {clusters.shape} do not match windows x local speakers {seg.activity.shape[::2]}")
    offsets = frame_offsets(seg.starts)
    frames = int(offsets[-1]) + sg.FRAMES
    k = max(int(clusters.max(initial=-1)) + 1, 1)
    score = np.zeros((frames, k))
    total = np.zeros(frames)
    cover = np.zeros(frames)
    _aggregate(np.ascontiguousarray(seg.activity, dtype=np.float32), clusters, offsets, score, total, cover)
    count = np.zeros(frames, dtype=np.int8)
    active = np.zeros((frames, k), dtype=np.bool_)
    _top_speakers(score, total, cover, min(max_count, k), count, active)
    return active, count


@kernel
def _aggregate(activity, clusters, offsets, score, total, cover):
    windows, frames, local = activity.shape
    for w in range(windows):
        o = offsets[w]
        for j in range(frames):
            g = o + j
            if g >= score.shape[0]:
                break
            cover[g] += 1.0
            for s in range(local):
                a = activity[w, j, s]
                total[g] += a
                c = clusters[w, s]
                if c >= 0:
                    score[g, c] += a


@kernel
def _top_speakers(score, total, cover, max_count, count, active):
    frames, k = score.shape
    for g in range(frames):
        if cover[g] == 0:
            continue
        c = int(np.floor(total[g] / cover[g] + 0.5))
        c = min(c, max_count)
        taken = 0
        for _ in range(c):
            best = -1
            for s in range(k):
                if not active[g, s] and score[g, s] > 0 and (best < 0 or score[g, s] > score[g, best]):
                    best = s
            if best < 0:
                break
            active[g, best] = True
            taken += 1
        count[g] = taken


def first_seen_order(active: np.ndarray) -> np.ndarray:
    """Column order of `active` [frames, k] by first active frame; never-active columns dropped."""
    firsts = [(int(np.argmax(active[:, c])), c) for c in range(active.shape[1]) if active[:, c].any()]
    return np.array([c for _, c in sorted(firsts)], dtype=np.int64)


def active_to_segments(active: np.ndarray, *, t0: float = 0.0, end_s: float | None = None,
                       trim_s: float = 0.0) -> list[Segment]:
    """Segments speaker1.. of each column's runs on the HOP_S grid (frame g spans its centre ± HOP_S/2),
    each edge moved `trim_s` inward (the model's 62 ms frames reach past the speech; runs shorter
    than 2 trim_s vanish)."""
    out = []
    offset = t0 + sg.FRAME_DURATION_S / 2 - HOP_S / 2
    for c in range(active.shape[1]):
        col = np.concatenate(([False], active[:, c], [False])).astype(np.int8)
        edges = np.diff(col)
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            start = max(offset + a * HOP_S + trim_s, t0)
            end = offset + b * HOP_S - trim_s
            if end_s is not None:
                end = min(end, end_s)
            if end > start:
                out.append(Segment(float(start), float(end), f"speaker{c + 1}"))
    return sorted(out)


def heard_share(result: Diarization, activity: VoiceActivity) -> float:
    """Share of `activity`'s speech frames (channel 0) where the model hears someone (1.0 if no speech)."""
    vad = activity.speech[0]
    if vad.sum() == 0:
        return 1.0
    if result.count.size == 0:
        return 0.0
    t = activity.t0 + (np.arange(activity.frames) + 0.5) * activity.hop_s
    offset = result.t0 + sg.FRAME_DURATION_S / 2 - HOP_S / 2
    k = np.floor((t - offset) / HOP_S).astype(np.int64)
    inside = (k >= 0) & (k < result.count.size)
    heard = np.zeros(vad.size, dtype=np.bool_)
    heard[inside] = result.count[k[inside]] > 0
    return float((heard & vad).sum() / vad.sum())


def speech_activity(result: Diarization, x: np.ndarray | None = None) -> VoiceActivity:
    """The segmentation model's speech (one or more speakers) as a one-channel VoiceActivity on its
    16.875 ms grid; level_db is each frame's energy in dBFS when the audio x [n] is given (else -inf)."""
    speech = (result.count > 0)[None, :]
    frames = speech.shape[1]
    level = np.full((1, frames), -np.inf, dtype=np.float32)
    if x is not None and frames:
        first = (sg.FRAME_DURATION_S / 2 - HOP_S / 2) * sg.RATE
        edges = np.minimum((first + np.arange(frames + 1) * HOP_S * sg.RATE).astype(np.int64), x.shape[0])
        sq = np.concatenate(([0.0], np.cumsum(np.asarray(x, dtype=np.float64) ** 2)))
        n = np.maximum(np.diff(edges), 1)
        power = (sq[edges[1:]] - sq[edges[:-1]]) / n
        level[0] = (10 * np.log10(np.maximum(power, 1e-12))).astype(np.float32)
    return VoiceActivity(speech, level, HOP_S, result.t0 + sg.FRAME_DURATION_S / 2 - HOP_S / 2)
