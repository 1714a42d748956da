"""Small, frozen, timed records passed between stages (times are seconds on the session clock)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AudioBlock:
    """A block of audio: `samples` float32 [shape=(channels, n)] in [-1, 1] at `rate` Hz.

    `t0` is the session-clock time of the first sample, in seconds.
    """

    samples: np.ndarray
    t0: float
    rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[-1] / self.rate

    @property
    def channels(self) -> int:
        return self.samples.shape[0]


@dataclass(frozen=True, order=True)
class Segment:
    """One speaker's stretch of speech, [start, end) in seconds (pyannote.core's Segment, with a label)."""

    start: float
    end: float
    speaker: str = field(compare=True, default="")

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, as found by the decoder."""

    path: str
    duration_s: float
    channels: int
    source_rate: int
    codec: str
    has_video: bool = False


@dataclass(frozen=True)
class VoiceActivity:
    """Per-channel voice activity on a fixed frame grid.

    `speech` bool [shape=(channels, frames)]; `level_db` float32 [shape=(channels, frames)]
    frame energy in dBFS; frame k covers [t0 + k*hop_s, t0 + (k+1)*hop_s).
    """

    speech: np.ndarray
    level_db: np.ndarray
    hop_s: float
    t0: float = 0.0

    @property
    def frames(self) -> int:
        return self.speech.shape[-1]
