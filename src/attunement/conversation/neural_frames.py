"""From window-level speakers back to the session clock for the trained diarizer: per-frame scores
aggregated over overlapping windows, the counted speakers kept per frame (so overlapped speech
stays overlap), segments in order of first appearance, each speaker's edges kept out of silence
(`trim_to_audible`), and the model's own speech as voice activity."""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from ..errors import InputError
from ..intervals import bool_runs
from ..perception.vad_kernels import audible_frames
from ..records import VoiceActivity
from . import segmentation as sg
from .neural_records import HOP_S, Diarization


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


def trim_to_audible(result: Diarization, activity: VoiceActivity, *, audible_db: float,
                    floor_rise_db_per_s: float, min_pause_s: float = np.inf) -> Diarization:
    """`result` with each speaker's runs trimmed at both ends to the first and last audible frame.

    A frame is audible when the detector's full-band level (`activity.level_db`, the loudest
    channel) stands `audible_db` above the background, minimum-tracked as the VAD does
    (perception/vad_kernels.py `audible_frames`: falls to any lower frame at once, rises
    `floor_rise_db_per_s`). The model's frames reach past the speech (its segments start about
    60 ms early and end 50 ms late against sample-exact truth, and it bridges silent gaps into a
    next turn); an onset or an end is never placed in silence, as the VAD never extends speech
    into it. Silence inside a run is kept unless it lasts over `min_pause_s` (default: always kept;
    the model bridges silent pauses of 0.7 s inside one voice, where AMI's annotators do too).
    Frames outside `activity`'s span are taken as audible. `count` follows the trimmed speakers.
    """
    active = result.active
    if active.size == 0 or activity.frames == 0 or audible_db <= 0:
        return result
    level = np.max(activity.level_db, axis=0).astype(np.float32)
    audible = audible_frames(level, np.zeros(level.size, np.bool_), np.full(1, np.nan), hop_s=activity.hop_s,
                             floor_rise_db_per_s=floor_rise_db_per_s, audible_db=audible_db,
                             voiced_audible_db=audible_db)
    silent = at_centres(result, ~audible, t0=activity.t0, hop_s=activity.hop_s)
    trimmed = active.copy()
    for c in range(active.shape[1]):
        for a, b in zip(*bool_runs(active[:, c])):
            heard = np.flatnonzero(~silent[a:b])
            if heard.size == 0:
                trimmed[a:b, c] = False
            else:
                trimmed[a:a + heard[0], c] = False
                trimmed[a + heard[-1] + 1:b, c] = False
                gaps = np.flatnonzero(np.diff(heard) * HOP_S > min_pause_s + HOP_S / 2)
                for i in gaps:
                    trimmed[a + heard[i] + 1:a + heard[i + 1], c] = False
    count = trimmed.sum(axis=1).astype(np.int8)
    return Diarization(trimmed, count, result.t0, result.trim_s)


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


def at_centres(result: Diarization, flags: np.ndarray, *, t0: float, hop_s: float) -> np.ndarray:
    """`flags` (bool [m], a detector's frames every `hop_s` s from `t0`) at the centre of each of
    `result`'s frames: bool [frames]; centres outside the flags' span read False."""
    centres = result.t0 + sg.FRAME_DURATION_S / 2 + np.arange(result.active.shape[0]) * HOP_S
    k = np.floor((centres - t0) / hop_s).astype(np.int64)
    inside = (k >= 0) & (k < flags.shape[0])
    out = np.zeros(centres.shape[0], dtype=np.bool_)
    out[inside] = flags[k[inside]]
    return out
