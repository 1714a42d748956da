"""Speech the segmentation model did not hear, given to the speaker it heard nearest (trained diarizer).

The segmentation model misses far, quiet voices (docs/diarization.md, "Why dev01, trn02 and trn04
are worse"). A second, trained detector (Silero VAD, perception/silero.py) may still hear them. Where
that detector hears speech and the diarizer has nobody, `fill_missed` gives the frame to the
speaker the diarizer heard nearest in time within the same stretch of speech (a run of frames
where either hears someone); a stretch in which the diarizer heard nobody stays empty.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .._numba import kernel
from ..records import VoiceActivity
from .neural_frames import at_centres
from .neural_records import Diarization


class SileroModel:
    """The Silero detector, opened once per process and thread count."""

    cache: ClassVar[dict] = {}

    @classmethod
    def get(cls, threads: int):
        if threads not in cls.cache:
            from ..perception.silero import SileroVad
            cls.cache[threads] = SileroVad(threads=threads)
        return cls.cache[threads]


def silero_speech(x: np.ndarray, *, threshold: float, t0: float = 0.0, threads: int = 1) -> VoiceActivity:
    """Silero VAD's speech of mono 16 kHz audio x [n] at `threshold` (its other settings the published
    defaults), a one-channel VoiceActivity on its 32 ms grid from `t0`."""
    return SileroModel.get(threads).activity(x, threshold=threshold, t0=t0)


def on_grid(result: Diarization, activity: VoiceActivity) -> np.ndarray:
    """`activity`'s speech (channel 0) at the centre of each of `result`'s frames: bool [frames]
    (frames outside its span: no speech)."""
    return at_centres(result, activity.speech[0], t0=activity.t0, hop_s=activity.hop_s)


def fill_missed(result: Diarization, speech: np.ndarray) -> Diarization:
    """`result` with every frame where `speech` (bool [frames], on result's grid) is set and nobody
    talks given to one speaker: among the speakers active at the nearest frame where the diarizer
    hears someone, inside the same run of (speech or heard) frames, the lowest-numbered (ties in
    distance go to the earlier frame). Runs without a heard frame stay empty; `count` follows."""
    active = result.active
    if active.size == 0:
        return result
    heard = active.any(axis=1)
    nearest = np.full(heard.size, -1, dtype=np.int64)
    _nearest_heard(heard, np.asarray(speech, dtype=np.bool_) | heard, nearest)
    fill = np.flatnonzero(~heard & (nearest >= 0))
    if fill.size == 0:
        return result
    out = active.copy()
    out[fill, np.argmax(active[nearest[fill]], axis=1)] = True
    return Diarization(out, out.sum(axis=1).astype(np.int8), result.t0, result.trim_s)


@kernel
def _nearest_heard(heard, speech, nearest):
    # nearest[g]: the heard frame closest to g in g's run of speech frames (-1 outside speech or
    # with no heard frame in the run); ties go to the earlier frame
    n = heard.shape[0]
    last = -1
    for g in range(n):
        if not speech[g]:
            last = -1
            continue
        if heard[g]:
            last = g
        nearest[g] = last
    following = -1
    for g in range(n - 1, -1, -1):
        if not speech[g]:
            following = -1
            continue
        if heard[g]:
            following = g
        if following >= 0 and (nearest[g] < 0 or following - g < g - nearest[g]):
            nearest[g] = following
