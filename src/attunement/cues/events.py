"""Timed cue events and the per-frame time grid the cue kernels share.

Frame k of a series covers [times[k], ends[k]): its end is the next frame's time, and the last
frame lasts as long as the median frame step. A run of frames i..j lasts ends[j] - times[i].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..intervals import bool_runs


@dataclass(frozen=True, order=True)
class CueEvent:
    """One cue over [start, end) seconds on the session clock.

    kind: "eye_contact", "lean_in", "lean_back", "nod" or "shake". amplitude: degrees for nods
    and shakes (median peak-to-trough amplitude their successive swings share), median relative
    distance change for leans (e.g. -0.08 = 8% nearer), NaN for eye contact. count: nod or shake
    cycles, else 0.
    """

    start: float
    end: float
    kind: str = ""
    amplitude: float = float("nan")
    count: int = 0

    @property
    def duration(self) -> float:
        return self.end - self.start


def as_times(times: np.ndarray, n: int | None = None) -> np.ndarray:
    """Validate frame times (seconds, strictly increasing, finite) and return them as float64 [n]."""
    t = np.ascontiguousarray(times, np.float64)
    if t.ndim != 1 or (n is not None and t.shape[0] != n):
        raise ValueError(f"frame times must have shape ({n if n is not None else 'frames'},), got {t.shape}")
    if not np.isfinite(t).all() or (t.size > 1 and not (np.diff(t) > 0).all()):
        raise InputError("frame times must be finite and strictly increasing (seconds on the session clock)")
    return t


def frame_ends(times: np.ndarray) -> np.ndarray:
    """End time of each frame [n]: the next frame's time; the last frame lasts the median step."""
    t = as_times(times)
    ends = np.empty_like(t)
    if t.size:
        ends[:-1] = t[1:]
        ends[-1] = t[-1] + (float(np.median(np.diff(t))) if t.size > 1 else 0.0)
    return ends


def runs_to_events(times: np.ndarray, flags: np.ndarray, kind: str) -> list[CueEvent]:
    """The runs of True in a per-frame bool series [n], as events from a run's first frame to its end."""
    ends = frame_ends(times)
    first, stop = bool_runs(flags)
    return [CueEvent(float(times[a]), float(ends[b - 1]), kind) for a, b in zip(first, stop)]

