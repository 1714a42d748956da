"""Who spoke when from one shared microphone: the mono speaker-attribution strategy.

Plugs into the seam of speakers.py: `feed(block)` turns the 16 kHz audio into MFCC frames as
it streams (the audio itself is not kept); `finish(activity, duration_s)` diarizes the speech
the voice-activity detector found:

1. speech is cut into chunks of about `chunk_s` (features.speech_chunks); chunks shorter
   than `min_chunk_s` are left to step 4;
2. chunk pairs are compared by the Gaussian log-likelihood ratio of full-covariance MFCC
   models (features.glr_distances): timbre lives in how the cepstra co-vary, which
   mean/variance statistics of the same chunks separated far worse (docs/diarization.md);
3. spectral clustering of the chunks on a pruned affinity (`affinity_keep`), the count from
   the eigengap, the gap at 2 weighted by `count_gap_weight` (a prior for two; cluster.py);
   clusters under `min_cluster_share` of the frames are outliers, set aside, and the rest
   clustered again;
4. `reseg_iterations` rounds of frame-level re-segmentation with one Gaussian per speaker,
   likelihoods smoothed over `smooth_s`, Viterbi with `switch_penalty` (reseg.py);
5. speakers one Gaussian explains by the BIC (`merge_bic_lambda`) are merged and step 4 is
   run again: so a single voice stays one speaker (unless `num_speakers` is given);
6. overlap: where the runner-up voice fits within `overlap_margin` of the best one for at
   least `min_overlap_s`, both speak.

Speaker ids are speaker1, speaker2, ... in order of first appearance. Details, choices and
measurements: docs/diarization.md; thresholds: [diarization] in calibration/defaults.toml.

Opt-in (`embeddings = "dvector"`): steps 1-3 are replaced by spectral clustering of d-vectors
of 1.6 s windows (Resemblyzer's GE2E encoder, dvector.py; `_dvector_labels`); steps 4-6 are the
same. Without the encoder's weights the setting falls back to the MFCC chunks, with a logged note.
"""

from __future__ import annotations

import logging

import numpy as np

from ..config import MAX_SPEAKERS, DiarizationConfig
from ..errors import InputError
from ..records import AudioBlock, Segment, VoiceActivity
from . import dvector as dv
from . import features as ft
from .cluster import first_appearance, spectral_clusters
from .reseg import box_smooth, second_speaker, speaker_loglik, viterbi

log = logging.getLogger(__name__)

#: Fewer speech chunks than this are one speaker: nothing to compare them with.
MIN_CHUNKS = 3


class Diarizer:
    """Mono speaker diarization, streaming features then clustering at the end (see the module doc).

    `num_speakers` fixes the count; None estimates it between config.min_speakers and
    config.max_speakers (the eigengap proposes 2 or more, the BIC merge may leave 1). Blocks must be 16 kHz; several channels are averaged (one microphone).
    """

    def __init__(self, *, config: DiarizationConfig, num_speakers: int | None = None):
        if num_speakers is not None and not 1 <= num_speakers <= MAX_SPEAKERS:
            raise InputError(f"number of speakers {num_speakers}: must be between 1 and {MAX_SPEAKERS}")
        self.config = config
        self.num_speakers = num_speakers
        self._mfcc = ft.MfccStream()
        self._mel = _mel_stream() if config.embeddings == "dvector" else None
        self._t0: float | None = None
        self.labels: np.ndarray | None = None   # per feature frame after finish: speaker index or -1
        self.overlap: np.ndarray | None = None  # per feature frame: second speaker index or -1

    def feed(self, block: AudioBlock) -> np.ndarray:
        """Take the next block (float32 [channels, n] at 16 kHz): only its MFCC frames are kept.

        Returns the MFCC frames it completed, float32 [k, 19] (what a live session stores)."""
        if block.rate != ft.RATE:
            raise InputError(f"diarization needs 16000 Hz audio; block at t0={block.t0:.3f} s is {block.rate} Hz")
        if self._t0 is None:
            self._t0 = float(block.t0)
        samples = block.samples[0] if block.channels == 1 else block.samples.mean(axis=0)
        new = self._mfcc.feed(samples)
        if self._mel is not None:
            self._mel.feed(samples)
        return new

    def restore(self, features: np.ndarray, *, t0: float) -> None:
        """Take MFCC frames stored by a live session (float32 [frames, 19], the first at `t0` s)
        instead of audio, so `finish` diarizes a session rebuilt from its store."""
        if self._t0 is not None:
            raise RuntimeError("Diarizer.restore() after feed()")
        self._t0 = float(t0)
        self._mfcc.add(features)

    def finish(self, activity: VoiceActivity, duration_s: float) -> list[Segment]:
        """Speaker segments of the speech in `activity` (channel 0), sorted; ids speaker1.. by first appearance."""
        feats = self._mfcc.features()
        t0 = self._t0 if self._t0 is not None else activity.t0
        speech = speech_on_frames(activity, feats.shape[0], t0=t0)
        mel = self._mel.frames() if self._mel is not None else None
        if mel is not None and mel[0].shape[0] != feats.shape[0]:
            log.warning("d-vectors: %d mel frames for %d MFCC frames (a rebuilt session keeps only MFCCs); using mfcc",
                        mel[0].shape[0], feats.shape[0])
            mel = None
        labels, overlap = diarize_frames(feats, speech, config=self.config, num_speakers=self.num_speakers, mel=mel)
        self.labels, self.overlap = labels, overlap
        end = duration_s if duration_s > 0 else t0 + feats.shape[0] * ft.HOP_S
        segments = frames_to_segments(labels, t0=t0, end_s=end) + frames_to_segments(overlap, t0=t0, end_s=end)
        log.debug("diarization: %d frames, %d speech, %d speaker(s), %.1f s overlap", feats.shape[0],
                  int(speech.sum()), int(labels.max(initial=-1)) + 1, float((overlap >= 0).sum()) * ft.HOP_S)
        return sorted(segments)


def diarize_frames(features: np.ndarray, speech: np.ndarray, *, config: DiarizationConfig,
                   num_speakers: int | None = None,
                   mel: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Speaker of each frame and the overlapping second speaker, both int64 [frames] (-1: none).

    `features` float32 [frames, d] (MFCCs), `speech` bool [frames]. Speakers are numbered by
    first appearance. `mel` (mel power float32 [frames, 40], frame mean squares float32 [frames],
    dvector.MelStream's) replaces steps 1-3 by d-vector clustering (`_dvector_labels`); None: MFCC chunks.
    """
    n = features.shape[0]
    if speech.shape != (n,):
        raise InputError(f"speech mask of shape {speech.shape} does not match {n} feature frames")
    labels, overlap = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(speech)
    if idx.size == 0:
        return labels, overlap
    x = features[idx].astype(np.float64)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)
    full = np.zeros((n, x.shape[1]))
    full[idx] = x
    if mel is not None:
        first = None if num_speakers == 1 else _dvector_labels(mel, idx, num_speakers, config)
        if first is None:
            labels[idx] = 0
            return labels, overlap
        labels[idx] = first
        k = int(first.max()) + 1
        prior = np.cov(x.T) if x.shape[0] > x.shape[1] else np.eye(x.shape[1])
    else:
        chunks = ft.speech_chunks(speech, chunk_frames=max(1, round(config.chunk_s / ft.HOP_S)))
        if chunks.shape[0] < MIN_CHUNKS or num_speakers == 1:
            labels[idx] = 0
            return labels, overlap
        prior = np.cov(x.T) if x.shape[0] > x.shape[1] else np.eye(x.shape[1])
        long = chunks[:, 1] - chunks[:, 0] >= round(config.min_chunk_s / ft.HOP_S)
        if long.sum() < MIN_CHUNKS:
            long[:] = True
        count, s1, s2 = ft.chunk_stats(full, chunks[long])
        distances = ft.glr_distances(count, s1, s2, prior, shrink_frames=config.shrink_frames)
        chunk_labels = _cluster_chunks(distances, count, num_speakers, config)
        k = int(chunk_labels.max()) + 1
        for (a, b), lab in zip(chunks[long], chunk_labels):
            labels[a:b] = lab
    width = max(1, round(config.smooth_s / ft.HOP_S))
    runs = np.cumsum(np.diff(idx, prepend=idx[0] - 2) > 1)   # a new run of speech after every pause
    free = np.diff(runs, prepend=runs[0] - 1) > 0
    current, ll = _resegment(x, labels[idx], k, prior, width, runs, free, config)
    if num_speakers is None and config.merge_bic_lambda > 0:
        merged = merge_close_speakers(x, current, prior, bic_lambda=config.merge_bic_lambda,
                                      shrink_frames=config.shrink_frames,
                                      min_speakers=config.min_speakers)
        if merged.max() + 1 < k:
            k = int(merged.max()) + 1
            if k == 1:
                labels[idx] = 0
                return labels, overlap
            current, ll = _resegment(x, merged, k, prior, width, runs, free, config)
    labels[idx] = current
    labels = first_appearance(labels)
    if k > 1 and config.reseg_iterations > 0:
        order = _relabel_map(current, labels[idx])
        second = second_speaker(ll, current, margin=config.overlap_margin,
                                min_frames=max(1, round(config.min_overlap_s / ft.HOP_S)))
        overlap[idx] = np.where(second >= 0, order[np.maximum(second, 0)], -1)
    return labels, overlap


def _cluster_chunks(distances: np.ndarray, count: np.ndarray, num_speakers: int | None,
                    config: DiarizationConfig) -> np.ndarray:
    """Speaker of each chunk int64 [c]; -1: outliers, in clusters holding under `min_cluster_share` of the frames.

    Spectral clustering readily gives one odd chunk a cluster of its own and then folds two real
    voices into one; such chunks are set aside (re-segmentation labels them) and the rest clustered again.
    """
    out = np.full(count.shape[0], -1, dtype=np.int64)
    active = np.arange(count.shape[0])
    while True:
        # the eigengap counts from 2; one voice is found by merging close speakers afterwards
        lab, _ = spectral_clusters(distances[np.ix_(active, active)], num_speakers=num_speakers,
                                   min_speakers=max(config.min_speakers, 2), max_speakers=config.max_speakers,
                                   keep=config.affinity_keep, first_gap_weight=config.count_gap_weight)
        share = np.bincount(lab, weights=count[active]) / count[active].sum()
        small = share[lab] < config.min_cluster_share
        if not small.any() or (~small).sum() < MIN_CHUNKS:
            break
        active = active[~small]
    out[active] = lab
    return first_appearance(out)


def _mel_stream() -> dv.MelStream | None:
    """A mel stream for d-vectors, or None (with a logged note: MFCC chunks then) when the encoder's weights
    are missing or unreadable."""
    try:
        dv.load_encoder()
    except InputError as e:
        log.warning('[diarization] embeddings = "dvector", but %s; using "mfcc"', e)
        return None
    return dv.MelStream()


def _dvector_labels(mel: tuple[np.ndarray, np.ndarray], idx: np.ndarray, num_speakers: int | None,
                    config: DiarizationConfig) -> np.ndarray | None:
    """Speaker int64 [len(idx)] of the speech frames `idx` from d-vectors; None: fewer than MIN_CHUNKS windows.

    1.6 s windows every 0.5 s over the speech laid end to end (dvector.speech_windows; at most
    dvector.DIARIZE_MAX_WINDOWS, the hop growing beyond 12.5 min of speech) are embedded and
    spectrally clustered as chunks are (`_cluster_chunks`) on the cosine distance 1 - cos; each
    frame then goes to the cluster whose unit centroid the windows covering it resemble most on
    average (cosine).
    """
    power = mel[1]
    if mel[0].shape[0] < int(idx[-1]) + 1 or power.shape[0] != mel[0].shape[0]:
        raise InputError(f"{mel[0].shape[0]} mel frames do not cover the speech frames (up to {int(idx[-1])})")
    length = dv.DIARIZE_WINDOW_FRAMES
    hop = dv.diarize_hop(idx.size, length=length, hop=dv.DIARIZE_HOP_FRAMES, max_windows=dv.DIARIZE_MAX_WINDOWS)
    starts = dv.speech_windows(idx.size, length=length, hop=hop)
    if starts.size < MIN_CHUNKS:
        return None
    emb = dv.embed_frames(mel[0][idx], power[idx], starts, length=length).astype(np.float64)
    distances = np.clip(1.0 - emb @ emb.T, 0.0, None)
    np.fill_diagonal(distances, 0.0)
    lab = _cluster_chunks(distances, np.ones(starts.size), num_speakers, config)
    k = int(lab.max()) + 1
    centroids = np.stack([emb[lab == j].mean(axis=0) for j in range(k)])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    # a hop longer than the window: the frames in between go to the window before
    votes = dv.window_votes(idx.size, starts, max(length, hop), emb @ centroids.T)
    return np.argmax(votes, axis=1).astype(np.int64)


def _resegment(x, current, k, prior, width, runs, free, config):
    """`reseg_iterations` rounds of Gaussian fit + smoothed Viterbi from labels int64 [frames] (-1: not used to fit)."""
    ll = np.zeros((x.shape[0], k))
    for _ in range(config.reseg_iterations):
        ll = box_smooth(speaker_loglik(x, current, k, prior, shrink_frames=config.shrink_frames), width, runs=runs)
        current = viterbi(np.maximum(ll, -1e30), switch_penalty=config.switch_penalty, free=free)
    return np.where(current < 0, 0, current), ll


def speaker_glr(x: np.ndarray, labels: np.ndarray, prior: np.ndarray, *, shrink_frames: float) -> np.ndarray:
    """GLR per frame float64 [k, k] between the full-covariance Gaussians of all frames of each label 0..k-1.

    `x` float [frames, d], `labels` int [frames] (negative: left out).
    """
    k = int(labels.max(initial=-1)) + 1
    d = x.shape[1]
    n, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
    for j in range(k):
        mine = x[labels == j]
        n[j], s1[j], s2[j] = mine.shape[0], mine.sum(axis=0), mine.T @ mine
    return ft.glr_distances(n, s1, s2, prior, shrink_frames=shrink_frames)


def merge_close_speakers(x: np.ndarray, labels: np.ndarray, prior: np.ndarray, *, bic_lambda: float,
                         shrink_frames: float, min_speakers: int = 1) -> np.ndarray:
    """Labels int64 [frames] after merging, most alike pair first, speakers that one Gaussian explains well enough.

    Merge i and j while the BIC prefers one full-covariance Gaussian for both, i.e.
    n GLR < bic_lambda * P / 2 * log n with n = n_i + n_j frames and P = d + d (d + 1) / 2
    parameters (Chen & Gopalakrishnan 1998). Speakers are renumbered by first appearance;
    never fewer than `min_speakers`.
    """
    labels = first_appearance(np.asarray(labels, dtype=np.int64))
    d = x.shape[1]
    params = d + d * (d + 1) / 2
    while labels.max(initial=-1) + 1 > max(min_speakers, 1):
        k = int(labels.max()) + 1
        n = np.bincount(labels[labels >= 0], minlength=k).astype(np.float64)
        both = np.maximum(n[:, None] + n[None, :], 2.0)
        glr = speaker_glr(x, labels, prior, shrink_frames=shrink_frames)
        gain = both * glr - bic_lambda * params / 2 * np.log(both)
        np.fill_diagonal(gain, np.inf)
        i, j = np.unravel_index(np.argmin(gain), gain.shape)
        if gain[i, j] >= 0:
            break
        labels = first_appearance(np.where(labels == max(i, j), min(i, j), labels))
    return labels


def speech_on_frames(activity: VoiceActivity, frames: int, *, t0: float) -> np.ndarray:
    """The VAD's speech (channel 0) sampled at each feature frame's centre, bool [frames]."""
    if activity.frames == 0 or frames == 0:
        return np.zeros(frames, dtype=np.bool_)
    k = np.floor((ft.frame_times(frames, t0) - activity.t0) / activity.hop_s).astype(np.int64)
    inside = (k >= 0) & (k < activity.frames)
    out = np.zeros(frames, dtype=np.bool_)
    out[inside] = activity.speech[0][k[inside]]
    return out


def frames_to_segments(labels: np.ndarray, *, t0: float, end_s: float | None = None,
                       names: list[str] | None = None) -> list[Segment]:
    """Segments of runs of equal labels >= 0 on the 10 ms grid; frame k spans t0 + [k, k+1) * 10 ms, shifted to its centre.

    Names default to speaker1.. (label + 1); times are clipped to [t0, end_s].
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [labels.size]))
    offset = t0 + (ft.WIN / 2 - ft.HOP / 2) / ft.RATE
    out = []
    for a, b in zip(starts, ends):
        lab = int(labels[a])
        if lab < 0:
            continue
        start, end = max(offset + a * ft.HOP_S, t0), offset + b * ft.HOP_S
        if end_s is not None:
            end = min(end, end_s)
        if end > start:
            out.append(Segment(float(start), float(end), names[lab] if names else f"speaker{lab + 1}"))
    return out


def _relabel_map(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """new label of each old label, int64 [max old + 1] (-1 for unused)."""
    out = np.full(int(old.max(initial=-1)) + 2, -1, dtype=np.int64)
    out[old] = new
    return out
