"""Plain interval arithmetic on (start, end) pairs in seconds, for annotations and scoring."""

from __future__ import annotations

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
