"""Interval arithmetic on (start, end) pairs in seconds, and runs of True in per-frame flags."""

from __future__ import annotations

import numpy as np

from ._numba import kernel

Span = tuple[float, float]


def union(spans: list[Span], *, join_s: float = 0.0) -> list[Span]:
    """Sorted disjoint union of `spans`; spans that touch or are less than `join_s` apart are joined.

    Empty spans (end <= start) are dropped.
    """
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and (a <= out[-1][1] or a - out[-1][1] < join_s):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """Parts of sorted disjoint `spans` outside sorted disjoint `holes`."""
    out = []
    for a, b in spans:
        for ha, hb in holes:
            if hb <= a or ha >= b:
                continue
            if ha > a:
                out.append((a, ha))
            a = max(a, hb)
            if a >= b:
                break
        if a < b:
            out.append((a, b))
    return out


def bool_runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of True in bool [n] as (first, stop) int64 frame indices, stop exclusive: frames first..stop-1."""
    flags = np.ascontiguousarray(flags, dtype=np.bool_)
    if flags.ndim != 1:
        raise ValueError(f"flags must be 1-D, got shape {flags.shape}")
    bound = flags.shape[0] // 2 + 1
    first = np.empty(bound, dtype=np.int64)
    stop = np.empty(bound, dtype=np.int64)
    count = _runs(flags, first, stop)
    return first[:count], stop[:count]


@kernel
def _runs(flags, first, stop):
    count = 0
    inside = False
    for k in range(flags.shape[0]):
        if flags[k] and not inside:
            first[count] = k
            inside = True
        elif not flags[k] and inside:
            stop[count] = k
            count += 1
            inside = False
    if inside:
        stop[count] = flags.shape[0]
        count += 1
    return count


def inside(times: np.ndarray, segments) -> np.ndarray:
    """bool [n]: which `times` (s) fall inside any of `segments` (records with start and end, s)."""
    out = np.zeros(times.shape, dtype=bool)
    for s in segments:
        out |= (times >= s.start) & (times < s.end)
    return out
