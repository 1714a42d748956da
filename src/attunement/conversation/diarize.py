"""Who spoke when from one shared microphone: the mono speaker-attribution strategy.

Plugs into the seam of speakers.py: `feed(block)` turns the 16 kHz audio into MFCC frames as
it streams (the audio itself is not kept); `finish(activity, duration_s)` diarizes the speech
the voice-activity detector found:

1. speech is cut into chunks of about `chunk_s` (features.speech_chunks);
2. chunk pairs are compared by the Gaussian log-likelihood ratio of full-covariance MFCC
   models (features.glr_distances): timbre lives in how the cepstra co-vary, which
   mean/variance statistics of the same chunks separated far worse (docs/diarization.md);
3. spectral clustering of the chunks, the count from the eigengap (cluster.py);
4. `reseg_iterations` rounds of frame-level re-segmentation with one Gaussian per speaker,
   likelihoods smoothed over `smooth_s`, Viterbi with `switch_penalty` (reseg.py);
5. overlap: where the runner-up voice fits within `overlap_margin` of the best one for at
   least `min_overlap_s`, both speak.

Speaker ids are speaker1, speaker2, ... in order of first appearance. Details, choices and
measurements: docs/diarization.md; thresholds: [diarization] in calibration/defaults.toml.
"""

from __future__ import annotations

import logging

import numpy as np

from ..config import DiarizationConfig
from ..errors import InputError
from ..records import AudioBlock, Segment, VoiceActivity
from . import features as ft
from .cluster import first_appearance, spectral_clusters
from .reseg import box_smooth, second_speaker, speaker_loglik, viterbi

log = logging.getLogger(__name__)

#: Fewer speech chunks than this are one speaker: nothing to compare them with.
MIN_CHUNKS = 3


class Diarizer:
    """Mono speaker diarization, streaming features then clustering at the end (see the module doc).

    `num_speakers` fixes the count; None estimates it between config.min_speakers and
    config.max_speakers. Blocks must be 16 kHz; several channels are averaged (one microphone).
    """

    def __init__(self, *, config: DiarizationConfig, num_speakers: int | None = None):
        if num_speakers is not None and not 1 <= num_speakers <= 20:
            raise InputError(f"number of speakers {num_speakers}: must be between 1 and 20")
        self.config = config
        self.num_speakers = num_speakers
        self._mfcc = ft.MfccStream()
        self._t0: float | None = None
        self.labels: np.ndarray | None = None   # per feature frame after finish: speaker index or -1
        self.overlap: np.ndarray | None = None  # per feature frame: second speaker index or -1

    def feed(self, block: AudioBlock) -> None:
        """Take the next block (float32 [channels, n] at 16 kHz): only its MFCC frames are kept."""
        if block.rate != ft.RATE:
            raise InputError(f"diarization needs 16000 Hz audio; block at t0={block.t0:.3f} s is {block.rate} Hz")
        if self._t0 is None:
            self._t0 = float(block.t0)
        samples = block.samples[0] if block.channels == 1 else block.samples.mean(axis=0)
        self._mfcc.feed(samples)

    def finish(self, activity: VoiceActivity, duration_s: float) -> list[Segment]:
        """Speaker segments of the speech in `activity` (channel 0), sorted; ids speaker1.. by first appearance."""
        feats = self._mfcc.features()
        t0 = self._t0 if self._t0 is not None else activity.t0
        speech = speech_on_frames(activity, feats.shape[0], t0=t0)
        labels, overlap = diarize_frames(feats, speech, config=self.config, num_speakers=self.num_speakers)
        self.labels, self.overlap = labels, overlap
        end = duration_s if duration_s > 0 else t0 + feats.shape[0] * ft.HOP_S
        segments = frames_to_segments(labels, t0=t0, end_s=end) + frames_to_segments(overlap, t0=t0, end_s=end)
        log.debug("diarization: %d frames, %d speech, %d speaker(s), %.1f s overlap", feats.shape[0],
                  int(speech.sum()), int(labels.max(initial=-1)) + 1, float((overlap >= 0).sum()) * ft.HOP_S)
        return sorted(segments)


def diarize_frames(features: np.ndarray, speech: np.ndarray, *, config: DiarizationConfig,
                   num_speakers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Speaker of each frame and the overlapping second speaker, both int64 [frames] (-1: none).

    `features` float32 [frames, d] (MFCCs), `speech` bool [frames]. Speakers are numbered by
    first appearance.
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
    chunks = ft.speech_chunks(speech, chunk_frames=max(1, round(config.chunk_s / ft.HOP_S)))
    if chunks.shape[0] < MIN_CHUNKS or num_speakers == 1:
        labels[idx] = 0
        return labels, overlap
    prior = np.cov(x.T) if x.shape[0] > x.shape[1] else np.eye(x.shape[1])
    count, s1, s2 = ft.chunk_stats(full, chunks)
    distances = ft.glr_distances(count, s1, s2, prior, shrink_frames=config.shrink_frames)
    chunk_labels, _ = spectral_clusters(distances, num_speakers=num_speakers, min_speakers=config.min_speakers,
                                        max_speakers=config.max_speakers)
    k = int(chunk_labels.max()) + 1
    for (a, b), lab in zip(chunks, chunk_labels):
        labels[a:b] = lab
    current = labels[idx]
    width = max(1, round(config.smooth_s / ft.HOP_S))
    runs = np.cumsum(np.diff(idx, prepend=idx[0] - 2) > 1)   # a new run of speech after every pause
    free = np.diff(runs, prepend=runs[0] - 1) > 0
    ll = np.zeros((idx.size, k))
    for _ in range(config.reseg_iterations):
        ll = box_smooth(speaker_loglik(x, current, k, prior, shrink_frames=config.shrink_frames), width, runs=runs)
        current = viterbi(np.maximum(ll, -1e30), switch_penalty=config.switch_penalty, free=free)
    labels[idx] = current
    labels = first_appearance(labels)
    if k > 1 and config.reseg_iterations > 0:
        order = _relabel_map(current, labels[idx])
        second = second_speaker(ll, current, margin=config.overlap_margin,
                                min_frames=max(1, round(config.min_overlap_s / ft.HOP_S)))
        overlap[idx] = np.where(second >= 0, order[np.maximum(second, 0)], -1)
    return labels, overlap


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
