"""Which voice is the person on camera: relate mouth movement to each speaker's voice activity.

A talking mouth opens and closes with the syllables (3-8 Hz); a listening one is still. So the
short-time variability of the mouth opening (its standard deviation over `window_s`) is high
while the person on camera speaks and low while they listen. For each diarized speaker we
compare the mean variability inside that speaker's solo speech with the mean outside it: the
on-camera speaker is the one whose speech lifts it most (a contrast, so it does not matter how
wide a person's mouth opens). Frames with no face (NaN) count nowhere.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from .._numba import kernel
from ..errors import InputError
from ..intervals import inside
from ..records import ME, Segment

log = logging.getLogger(__name__)

#: Short-time window of the mouth-opening variability, s: about two syllables.
WINDOW_S = 0.4


def mouth_activity(t: np.ndarray, opening: np.ndarray, *, window_s: float = WINDOW_S) -> np.ndarray:
    """Standard deviation of the opening over the frames within ±window_s/2 of each frame, float32 [n].

    `t` float64 [n] seconds, increasing; `opening` float32 [n], NaN where no face. NaN frames are
    skipped; a frame whose window holds fewer than 3 finite values (or which has no face) is NaN.
    """
    t = np.ascontiguousarray(t, dtype=np.float64)
    x = np.ascontiguousarray(opening, dtype=np.float32)
    if t.shape != x.shape or t.ndim != 1:
        raise ValueError(f"mouth track times {t.shape} and openings {x.shape} must be equal 1-D shapes")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise InputError("mouth track times must be strictly increasing")
    out = np.full(t.size, np.nan, dtype=np.float32)
    _windowed_std(t, x, float(window_s) / 2, out)
    return out


def speaker_mouth_scores(segments: Sequence[Segment], t: np.ndarray, opening: np.ndarray, *,
                         window_s: float = WINDOW_S) -> dict[str, float]:
    """Per speaker: mean mouth variability while they alone speak minus the mean elsewhere (NaN if unmeasurable)."""
    activity = mouth_activity(t, opening, window_s=window_s)
    t = np.asarray(t, dtype=np.float64)
    ok = np.isfinite(activity)
    speakers = sorted({s.speaker for s in segments})
    talking = {k: inside(t, [s for s in segments if s.speaker == k]) for k in speakers}
    scores = {}
    for k in speakers:
        others = np.zeros(t.size, dtype=bool)
        for j in speakers:
            if j != k:
                others |= talking[j]
        solo = talking[k] & ~others & ok
        rest = ~talking[k] & ok
        scores[k] = float(activity[solo].mean() - activity[rest].mean()) if solo.any() and rest.any() else float("nan")
    return scores


def find_me(segments: Sequence[Segment], t: np.ndarray, opening: np.ndarray, *,
            window_s: float = WINDOW_S) -> str | None:
    """The speaker id whose speech moves the on-camera mouth most; None if no speaker can be measured."""
    scores = speaker_mouth_scores(segments, t, opening, window_s=window_s)
    finite = {k: v for k, v in scores.items() if np.isfinite(v)}
    log.debug("mouth-speech contrast per speaker: %s", scores)
    if not finite:
        return None
    return max(finite, key=finite.get)


def label_me(segments: Sequence[Segment], me: str) -> list[Segment]:
    """Segments with speaker `me` renamed "me" and the others "partner" (one) or "partner-1".. (by first appearance)."""
    speakers = _by_first_appearance(segments)
    if me not in speakers:
        raise InputError(f"--me {me}: no such speaker; the speakers are {', '.join(speakers) or 'none'}")
    others = [k for k in speakers if k != me]
    names = {me: ME} | ({others[0]: "partner"} if len(others) == 1 else
                        {k: f"partner-{i + 1}" for i, k in enumerate(others)})
    return sorted(Segment(s.start, s.end, names[s.speaker]) for s in segments)


def moving_mouth_speakers(segments: Sequence[Segment], t: np.ndarray, opening: np.ndarray, *,
                          min_activity: float, window_s: float = WINDOW_S, min_frames: int = 5) -> list[str]:
    """Speakers during whose speech the on-camera mouth moves (median variability >= `min_activity`).

    A voice that diarization split in two is still one mouth: every such speaker is the person on
    camera. A partner's voice leaves the on-camera mouth still (variability near landmark jitter).
    """
    activity = mouth_activity(t, opening, window_s=window_s)
    t = np.asarray(t, dtype=np.float64)
    ok = np.isfinite(activity)
    movers = []
    for k in _by_first_appearance(segments):
        mask = inside(t, [s for s in segments if s.speaker == k]) & ok
        if mask.sum() >= min_frames and float(np.median(activity[mask])) >= min_activity:
            movers.append(k)
    return movers


def relabel_with_mouth(segments: Sequence[Segment], t: np.ndarray, opening: np.ndarray, *,
                       min_activity: float = float("inf")) -> list[Segment]:
    """Label the person on camera `me`: every speaker whose speech moves the mouth (merged into one),
    else the one `find_me` picks; segments unchanged when no face was measurable."""
    movers = moving_mouth_speakers(segments, t, opening, min_activity=min_activity)
    if movers:
        merged = [Segment(s.start, s.end, movers[0] if s.speaker in movers else s.speaker) for s in segments]
        return label_me(merged, movers[0])
    me = find_me(segments, t, opening)
    return list(segments) if me is None else label_me(segments, me)


def _by_first_appearance(segments: Sequence[Segment]) -> list[str]:
    out: list[str] = []
    for s in sorted(segments):
        if s.speaker not in out:
            out.append(s.speaker)
    return out


@kernel
def _windowed_std(t, x, half, out):
    n = t.size
    lo = 0
    hi = 0
    s = 0.0
    s2 = 0.0
    m = 0
    for i in range(n):
        while hi < n and t[hi] <= t[i] + half:
            if np.isfinite(x[hi]):
                s += x[hi]
                s2 += x[hi] * x[hi]
                m += 1
            hi += 1
        while t[lo] < t[i] - half:
            if np.isfinite(x[lo]):
                s -= x[lo]
                s2 -= x[lo] * x[lo]
                m -= 1
            lo += 1
        if m >= 3 and np.isfinite(x[i]):
            var = (s2 - s * s / m) / m
            out[i] = np.sqrt(max(var, 0.0))

