"""Nods (down-up pitch swings) and head shakes (left-right yaw swings) as timed events.

One kernel per angle series (degrees). Short NaN gaps (no face) are bridged by linear
interpolation, longer ones split the series. Turning points come from a hysteresis zigzag: a
reversal counts once the angle has come back by at least the minimum amplitude, so jitter and
slow drift never make one. Two successive swings (turning point -> apex -> turning point) are
timed over their common amplitude (the smaller one, measured within a longest half-period of the
apex, so drift before or after does not count): the 15-85 % part of a half-cosine takes half of
it, so each swing's half-period is twice its 15-85 % time, whatever plateau comes before or after.
The pair counts when both half-periods fit the band (0.7-7 Hz: 0.07-0.71 s, one frame of slack),
the common amplitude is at least the minimum and at least `return_ratio` of the larger swing,
and no pause longer than a half-period separates the two; successive pairs whose shared swing is
timed alike chain into one gesture. Nods start with a down swing (pitch > 0 is up).
count = swings // 2 (down-up or out-back cycles); amplitude = median common amplitude, degrees.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from ..config import CueConfig
from ..errors import InputError
from .events import CueEvent, as_times, frame_ends


def swing_events(times: np.ndarray, angle_deg: np.ndarray, *, kind: str, min_deg: float, min_hz: float,
                 max_hz: float, return_ratio: float, max_gap_s: float, min_swings: int,
                 down_first: bool) -> list[CueEvent]:
    """Oscillation events of one angle series [n] (degrees, NaN without a face) at `times` [n] s."""
    times = as_times(times)
    x = np.ascontiguousarray(angle_deg, np.float64)
    if x.shape != times.shape:
        raise ValueError(f"angles {x.shape} must match the frame times {times.shape}")
    if not (min_deg > 0 and 0 < min_hz < max_hz and 0 <= return_ratio <= 1 and max_gap_s >= 0 and min_swings >= 2):
        raise InputError(f"{kind}: need min_deg ({min_deg}) > 0, 0 < min_hz ({min_hz}) < max_hz ({max_hz}), "
                         f"0 <= return_ratio ({return_ratio}) <= 1, max_gap_s >= 0, min_swings ({min_swings}) >= 2")
    n = x.size
    ev = np.empty((n, 2))
    ev_count = np.empty(n, np.int64)
    ev_amp = np.empty(n)
    m = _gestures(x, times, frame_ends(times), float(min_deg), 0.5 / max_hz, 0.5 / min_hz, float(return_ratio),
                  float(max_gap_s), int(min_swings), bool(down_first), ev, ev_count, ev_amp)
    return [CueEvent(float(ev[k, 0]), float(ev[k, 1]), kind, float(ev_amp[k]), int(ev_count[k])) for k in range(m)]


def head_gestures(times: np.ndarray, pitch_deg: np.ndarray, yaw_deg: np.ndarray,
                  cfg: CueConfig) -> tuple[list[CueEvent], list[CueEvent]]:
    """(nods, shakes) from head pitch and yaw series [n] in degrees, with the [cues] settings `cfg`."""
    common = dict(min_hz=cfg.gesture_min_hz, max_hz=cfg.gesture_max_hz, return_ratio=cfg.gesture_return_ratio,
                  max_gap_s=cfg.gap_fill_s)
    nods = swing_events(times, pitch_deg, kind="nod", min_deg=cfg.nod_min_deg, min_swings=2, down_first=True, **common)
    shakes = swing_events(times, yaw_deg, kind="shake", min_deg=cfg.shake_min_deg, min_swings=cfg.shake_min_swings,
                          down_first=False, **common)
    return nods, shakes


@kernel
def _fill(x, times, ends, max_gap_s, y, seg):
    """y: x with NaN gaps of at most max_gap_s interpolated; seg: segment id per frame (-1: unfilled)."""
    s = -1
    last = -1
    for i in range(x.shape[0]):
        if not np.isfinite(x[i]):
            y[i] = np.nan
            seg[i] = -1
            continue
        if last < 0:
            s += 1
        elif i > last + 1:
            if times[i] - ends[last] <= max_gap_s:
                for k in range(last + 1, i):
                    w = (times[k] - times[last]) / (times[i] - times[last])
                    y[k] = x[last] + w * (x[i] - x[last])
                    seg[k] = s
            else:
                s += 1
        y[i] = x[i]
        seg[i] = s
        last = i


@kernel
def _turning_points(y, seg, thr, tp):
    """Indices of zigzag turning points (reversals of at least thr) into tp; returns their number."""
    m = 0
    cur = -1
    direction = 0
    hi = lo = ext = 0
    first_tp = 0
    for i in range(y.shape[0] + 1):
        new_seg = i == y.shape[0] or (seg[i] >= 0 and seg[i] != cur)
        if new_seg and cur >= 0 and direction != 0 and m > first_tp and abs(y[ext] - y[tp[m - 1]]) >= thr:
            tp[m] = ext  # the last swing of a segment ends at its extreme
            m += 1
        if i == y.shape[0]:
            break
        if seg[i] < 0:
            continue
        if new_seg:
            cur = seg[i]
            direction = 0
            hi = lo = i
            first_tp = m
            continue
        v = y[i]
        if direction == 0:
            if v > y[hi]:
                hi = i
            if v < y[lo]:
                lo = i
            if y[hi] - v >= thr:
                tp[m] = hi
                m += 1
                direction = -1
                ext = i
            elif v - y[lo] >= thr:
                tp[m] = lo
                m += 1
                direction = 1
                ext = i
        elif direction > 0:
            if v > y[ext]:
                ext = i
            elif y[ext] - v >= thr:
                tp[m] = ext
                m += 1
                direction = -1
                ext = i
        else:
            if v < y[ext]:
                ext = i
            elif v - y[ext] >= thr:
                tp[m] = ext
                m += 1
                direction = 1
                ext = i
    return m


@kernel
def _crossing(y, times, j, level):
    """Time the segment y[j-1] -> y[j] crosses `level` (linear interpolation)."""
    d = y[j] - y[j - 1]
    w = 0.5 if d == 0 else (level - y[j - 1]) / d
    return times[j - 1] + w * (times[j] - times[j - 1])


@kernel
def _timing(y, times, i0, i1, level0, level1, out):
    """Start, end and half-period of the move from level0 to level1 within y[i0..i1] into out[3].

    Timed by the first 85 % crossing and the last 15 % crossing before it; start and end are
    extrapolated to 0 % and 100 % (half a 15-85 % time each side), half-period = twice it.
    """
    span = level1 - level0
    j85 = i1
    for j in range(i0 + 1, i1 + 1):
        if (y[j] - level0) / span >= 0.85:
            j85 = j
            break
    j15 = i0
    for j in range(j85 - 1, i0 - 1, -1):
        if (y[j] - level0) / span <= 0.15:
            j15 = j
            break
    t85 = _crossing(y, times, j85, level0 + 0.85 * span)
    t15 = _crossing(y, times, j15 + 1, level0 + 0.15 * span)
    rise = t85 - t15
    out[0] = t15 - 0.5 * rise
    out[1] = t85 + 0.5 * rise
    out[2] = 2.0 * rise


@kernel
def _excursion(y, times, apex, end, window_s):
    """Largest |y - y[apex]| from the apex toward index `end`, within window_s seconds of the apex."""
    best = 0.0
    step = 1 if end > apex else -1
    for j in range(apex + step, end + step, step):
        if abs(times[j] - times[apex]) > window_s:
            break
        best = max(best, abs(y[j] - y[apex]))
    return best


@kernel
def _gestures(x, times, ends, min_deg, min_half, max_half, return_ratio, max_gap_s, min_swings, down_first,
              ev, ev_count, ev_amp):
    n = x.shape[0]
    y = np.empty(n)
    seg = np.empty(n, np.int64)
    _fill(x, times, ends, max_gap_s, y, seg)
    tp = np.empty(n + 1, np.int64)
    m = _turning_points(y, seg, min_deg, tp)
    pairs = max(m - 2, 0)
    ok = np.zeros(pairs, np.bool_)
    amp = np.empty(pairs)
    span = np.empty((pairs, 6))  # per pair: start, end, half-period of its first and of its second swing
    first = np.empty(3)
    second = np.empty(3)
    for k in range(pairs):  # swings k (tp k -> k+1) and k+1 (tp k+1 -> k+2), timed over their common amplitude
        a, apex, b = tp[k], tp[k + 1], tp[k + 2]
        if seg[a] != seg[b]:
            continue
        slack = times[apex] - times[apex - 1]
        left = _excursion(y, times, apex, a, max_half + slack)
        right = _excursion(y, times, apex, b, max_half + slack)
        amp[k] = min(left, right)
        if amp[k] < min_deg or amp[k] < return_ratio * max(left, right):
            continue
        sign = 1.0 if y[apex] > y[a] else -1.0
        _timing(y, times, a, apex, y[apex] - sign * amp[k], y[apex], first)
        _timing(y, times, apex, b, y[apex], y[apex] - sign * amp[k], second)
        ok[k] = (min_half - slack <= first[2] <= max_half + slack
                 and min_half - slack <= second[2] <= max_half + slack
                 and second[0] - first[1] <= max(first[2], second[2]))
        span[k, :3] = first
        span[k, 3:] = second
    e = 0
    k = 0
    while k < pairs:
        if not ok[k] or (down_first and y[tp[k + 1]] > y[tp[k]]):
            k += 1
            continue
        b = k
        # the next pair shares this pair's second swing: both must time the same movement
        while b + 1 < pairs and ok[b + 1] and span[b + 1, 0] - span[b, 4] <= max(span[b, 5], span[b + 1, 2]):
            b += 1
        swings = b - k + 2
        if swings >= min_swings:
            ev[e, 0] = span[k, 0]
            ev[e, 1] = span[b, 4]
            ev_count[e] = swings // 2
            ev_amp[e] = np.median(amp[k:b + 1])
            e += 1
        k = b + 1
    return e
