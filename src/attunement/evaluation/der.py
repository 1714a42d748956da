"""Diarization error rate (DER), as NIST md-eval and pyannote.metrics define it.

DER = (missed speech + false alarm + speaker confusion) / total reference speech, all in
seconds over the scored region (the UEM), overlap-aware: where k reference speakers talk at
once, k seconds of reference speech count per second. At each instant with r reference and
h hypothesis speakers, missed = max(r - h, 0), false alarm = max(h - r, 0) and confusion =
min(r, h) - (reference speakers matched by their mapped hypothesis speaker); the mapping is
the one-to-one map of hypothesis to reference speakers that maximises the matched time
(Hungarian algorithm). A collar of `collar_s` removes [b - collar_s, b + collar_s] around
every reference boundary b from scoring (md-eval's `-c 0.25` is collar_s=0.25, which is
pyannote.metrics' `collar=0.5`, the full width).

Time is continuous: the timeline is cut at every boundary into elementary intervals, so the
result is exact, not rounded to a frame grid. One speaker's overlapping segments count once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._numba import kernel
from ..errors import InputError
from ..intervals import subtract, union
from ..records import Segment


@dataclass(frozen=True)
class DiarizationError:
    """The parts of DER in seconds, and the speaker mapping used (hypothesis id -> reference id)."""

    total_s: float
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    mapping: dict[str, str]

    @property
    def der(self) -> float:
        """(missed + false alarm + confusion) / total reference speech; 0 with nothing to score and no error."""
        errors = self.missed_s + self.false_alarm_s + self.confusion_s
        if self.total_s > 0:
            return errors / self.total_s
        return 0.0 if errors == 0 else math.inf

    def __add__(self, other: "DiarizationError") -> "DiarizationError":
        """Totals over several files (the corpus-level DER); the mappings are per file and dropped."""
        return DiarizationError(self.total_s + other.total_s, self.missed_s + other.missed_s,
                                self.false_alarm_s + other.false_alarm_s, self.confusion_s + other.confusion_s, {})


def diarization_error(reference: Sequence[Segment], hypothesis: Sequence[Segment], *,
                      uem: Sequence[tuple[float, float]] | tuple[float, float] | None = None,
                      collar_s: float = 0.0) -> DiarizationError:
    """DER parts of `hypothesis` against `reference` over `uem` (default: the extent of both).

    `uem` is one (start, end) in seconds or a list of them; `collar_s` (s, >= 0) is removed on
    each side of every reference segment boundary.
    """
    if not (math.isfinite(collar_s) and collar_s >= 0):
        raise InputError(f"collar_s = {collar_s}: must be a finite number of seconds >= 0")
    region = _region(reference, hypothesis, uem)
    if collar_s > 0:
        holes = [(b - collar_s, b + collar_s) for s in reference for b in (s.start, s.end)]
        region = subtract(region, union(holes))
    ref_ids, ref_arr = _arrays(reference, "reference")
    hyp_ids, hyp_arr = _arrays(hypothesis, "hypothesis")
    cuts = np.unique(np.concatenate([ref_arr[0], ref_arr[1], hyp_arr[0], hyp_arr[1],
                                     np.array([t for span in region for t in span], dtype=np.float64)]))
    weight = np.zeros(max(cuts.size - 1, 0), dtype=np.float64)
    _interval_weights(cuts, np.array([a for a, _ in region]), np.array([b for _, b in region]), weight)
    ref_act = np.zeros((len(ref_ids), weight.size), dtype=np.bool_)
    hyp_act = np.zeros((len(hyp_ids), weight.size), dtype=np.bool_)
    _mark(cuts, *ref_arr, ref_act)
    _mark(cuts, *hyp_arr, hyp_act)
    n_ref, n_hyp = ref_act.sum(axis=0), hyp_act.sum(axis=0)
    cooc = (ref_act * weight) @ hyp_act.T.astype(np.float64)
    pairs = optimal_mapping(cooc)
    matched = float(sum(cooc[i, j] for i, j in pairs))
    return DiarizationError(
        total_s=float(weight @ n_ref),
        missed_s=float(weight @ np.maximum(n_ref - n_hyp, 0)),
        false_alarm_s=float(weight @ np.maximum(n_hyp - n_ref, 0)),
        confusion_s=max(float(weight @ np.minimum(n_ref, n_hyp)) - matched, 0.0),
        mapping={hyp_ids[j]: ref_ids[i] for i, j in pairs if cooc[i, j] > 0},
    )


def optimal_mapping(gain: np.ndarray) -> list[tuple[int, int]]:
    """Row-column pairs (one-to-one) maximising the summed `gain` float [rows, cols] (Hungarian algorithm)."""
    gain = np.asarray(gain, dtype=np.float64)
    rows, cols = gain.shape
    if rows == 0 or cols == 0:
        return []
    n = max(rows, cols)
    cost = np.zeros((n, n))
    cost[:rows, :cols] = gain.max() - gain
    return [(i, j) for i, j in enumerate(_hungarian(cost)) if i < rows and j < cols]


def _hungarian(cost: np.ndarray) -> list[int]:
    """Column assigned to each row of the square `cost`, minimising the total (Kuhn-Munkres with potentials)."""
    n = cost.shape[0]
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    owner = np.zeros(n + 1, dtype=int)  # owner[j]: row (1-based) holding column j; column 0 is the free slot
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        low, way, used = np.full(n + 1, np.inf), np.zeros(n + 1, dtype=int), np.zeros(n + 1, dtype=bool)
        while owner[j0]:
            used[j0] = True
            i0 = owner[j0]
            free = ~used[1:]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < low[1:])
            low[1:][better] = reduced[better]
            way[1:][better] = j0
            j1 = 1 + int(np.argmin(np.where(free, low[1:], np.inf)))
            delta = low[j1]
            u[owner[used]] += delta
            v[used] -= delta
            low[1:][free] -= delta
            j0 = j1
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    col = [0] * n
    for j in range(1, n + 1):
        col[owner[j] - 1] = j - 1
    return col


def _region(reference, hypothesis, uem) -> list[tuple[float, float]]:
    if uem is None:
        times = [t for s in list(reference) + list(hypothesis) for t in (s.start, s.end)]
        return [(min(times), max(times))] if times else []
    spans = [uem] if len(uem) == 2 and not isinstance(uem[0], (tuple, list)) else list(uem)
    for a, b in spans:
        if not (math.isfinite(a) and math.isfinite(b) and b >= a):
            raise InputError(f"UEM span ({a}, {b}) must be finite with end >= start")
    return union([(float(a), float(b)) for a, b in spans])


def _arrays(segments: Sequence[Segment], what: str) -> tuple[list[str], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    ids = sorted({s.speaker for s in segments})
    index = {k: i for i, k in enumerate(ids)}
    starts = np.array([s.start for s in segments], dtype=np.float64)
    ends = np.array([s.end for s in segments], dtype=np.float64)
    bad = ~(np.isfinite(starts) & np.isfinite(ends)) | (ends < starts)
    if bad.any():
        raise InputError(f"{what} segment {segments[int(np.flatnonzero(bad)[0])]} is not a finite span with end >= start")
    return ids, (starts, ends, np.array([index[s.speaker] for s in segments], dtype=np.int64))




@kernel
def _interval_weights(cuts, region_start, region_end, weight):
    """weight[k] = seconds of elementary interval [cuts[k], cuts[k+1]) inside the region (sorted disjoint spans)."""
    r = 0
    for k in range(weight.size):
        a, b = cuts[k], cuts[k + 1]
        while r < region_start.size and region_end[r] <= a:
            r += 1
        if r < region_start.size and region_start[r] <= a and b <= region_end[r]:
            weight[k] = b - a


@kernel
def _mark(cuts, starts, ends, speaker, active):
    """active[speaker, k] = True for each elementary interval k a segment covers (every segment edge is a cut)."""
    for s in range(starts.size):
        k = np.searchsorted(cuts, starts[s])
        while k < active.shape[1] and cuts[k + 1] <= ends[s]:
            active[speaker[s], k] = True
            k += 1
