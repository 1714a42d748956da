"""Who is speaking: per-channel microphones, a reference annotation, or one shared track.

Each strategy is a small object with `feed(block)` (sees the audio as it streams) and
`finish(activity, duration_s) -> list[Segment]`. Mono diarization (a later stage) plugs in
as one more strategy with the same two methods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._numba import kernel
from ..config import ChannelConfig, VadConfig
from ..errors import InputError
from ..perception.vad import speech_segments
from ..perception.vad_kernels import smooth_frames
from ..records import AudioBlock, Segment, VoiceActivity


class SingleTrack:
    """Mono audio with no annotation: all speech is one track (speaker attribution comes later)."""

    def __init__(self, name: str = "speaker"):
        self.name = name

    def feed(self, block: AudioBlock) -> None:
        pass

    def finish(self, activity: VoiceActivity, duration_s: float) -> list[Segment]:
        return _segments(activity.speech[0], activity, self.name)


class FromAnnotation:
    """Speakers and their segments taken from a reference annotation (RTTM), clipped to the audio."""

    def __init__(self, segments: Sequence[Segment]):
        self.segments = list(segments)

    def feed(self, block: AudioBlock) -> None:
        pass

    def finish(self, activity: VoiceActivity | None, duration_s: float) -> list[Segment]:
        out = []
        for s in self.segments:
            end = min(s.end, duration_s) if duration_s > 0 else s.end
            if end > s.start:
                out.append(Segment(s.start, end, s.speaker))
        return out


class ChannelsAreSpeakers:
    """Each channel is one person's microphone; speech a neighbour's mic overhears is not theirs.

    A channel's speech counts in a frame only when that channel is within `leak_margin_db`
    of the loudest channel that also hears speech then: cross-talk arrives 15 dB or more lower.
    """

    def __init__(self, names: Sequence[str], *, channels: ChannelConfig, vad: VadConfig):
        self.names = list(names)
        self.channels = channels
        self.vad = vad

    def feed(self, block: AudioBlock) -> None:
        if block.channels != len(self.names):
            raise InputError(f"expected {len(self.names)} channels, got {block.channels}")

    def finish(self, activity: VoiceActivity, duration_s: float) -> list[Segment]:
        own = suppress_leak(activity.speech, activity.level_db, margin_db=self.channels.leak_margin_db)
        own = refill_masked(activity.speech, own, max_frames=round(self.channels.refill_max_s / activity.hop_s))
        # the VAD does not fill pauses of multi-channel input (a wearer's speech would be bridged to
        # the neighbour's cross-talk); pauses and slivers are mended here, after suppression
        fill, keep = (round(s / activity.hop_s) for s in (self.vad.min_pause_s, self.vad.min_speech_s))
        segments: list[Segment] = []
        for ch, name in enumerate(self.names):
            mended = smooth_frames(own[ch], fill_frames=fill, min_frames=keep, pad_frames=0, hang_frames=0)
            segments += _segments(mended, activity, name)
        return sorted(segments)


def channel_names(n: int, given: Sequence[str] | None = None) -> list[str]:
    """Speaker ids for `n` channels: the user's names, else speaker1..speakerN."""
    if given:
        if len(given) != n:
            raise InputError(f"{len(given)} speaker names given ({', '.join(given)}) for {n} channels")
        if len(set(given)) != len(given):
            raise InputError(f"speaker names must differ: {', '.join(given)}")
        return list(given)
    return [f"speaker{i + 1}" for i in range(n)]


def suppress_leak(speech: np.ndarray, level_db: np.ndarray, *, margin_db: float) -> np.ndarray:
    """Own-voice speech bool [channels, frames]: `speech` where the channel is within `margin_db` of the loudest speaking channel."""
    if speech.shape != level_db.shape or speech.ndim != 2:
        raise ValueError(f"speech {speech.shape} and level_db {level_db.shape} must be equal 2-D shapes")
    out = np.zeros(speech.shape, dtype=np.bool_)
    _suppress_leak(np.ascontiguousarray(speech, dtype=np.bool_),
                   np.ascontiguousarray(level_db, dtype=np.float32), np.float32(margin_db), out)
    return out


@kernel
def _suppress_leak(speech, level_db, margin_db, out):
    """Row by row (each channel's frames are contiguous), so the loops vectorise: the loudest speaking
    level of each frame first, then each channel against it."""
    channels, frames = speech.shape
    loudest = np.full(frames, -np.inf, np.float32)
    for c in range(channels):
        for t in range(frames):
            if speech[c, t] and level_db[c, t] > loudest[t]:
                loudest[t] = level_db[c, t]
    for c in range(channels):
        for t in range(frames):
            out[c, t] = speech[c, t] and level_db[c, t] >= loudest[t] - margin_db


def refill_masked(speech: np.ndarray, own: np.ndarray, *, max_frames: int) -> np.ndarray:
    """`own` with short suppressed holes refilled where the wearer's own speech runs on unbroken around them.

    A quiet speaker talking on under a louder neighbour's "mm-hm" is masked frame by frame, but their
    mic never falls silent: a hole of at most `max_frames` inside one run of `speech`, with own speech
    on both sides in that run, is theirs. bool [channels, frames] -> bool [channels, frames].
    """
    if speech.shape != own.shape or speech.ndim != 2:
        raise ValueError(f"speech {speech.shape} and own {own.shape} must be equal 2-D shapes")
    out = np.array(own, dtype=np.bool_, copy=True)
    _refill_masked(np.ascontiguousarray(speech, dtype=np.bool_), out, int(max_frames))
    return out


@kernel
def _refill_masked(speech, out, max_frames):
    channels, frames = speech.shape
    for c in range(channels):
        last_own = -1  # last own frame in the current run of speech, -1 if none yet
        for t in range(frames):
            if not speech[c, t]:
                last_own = -1
            elif out[c, t]:
                if last_own >= 0 and 0 < t - last_own - 1 <= max_frames:
                    for u in range(last_own + 1, t):
                        out[c, u] = True
                last_own = t


def _segments(speech: np.ndarray, activity: VoiceActivity, name: str) -> list[Segment]:
    starts, ends = speech_segments(speech, hop_s=activity.hop_s, t0=activity.t0)
    return [Segment(float(s), float(e), name) for s, e in zip(starts, ends)]
