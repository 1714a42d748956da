"""numba kernels of the turn-taking engine: bridge one speaker's short pauses, run the floor.

Segments travel as parallel arrays: `starts`, `ends` float64 seconds and `speakers` int32
indices [shape=(n,)]. The public wrappers validate and allocate; the private kernels fill.
Every bound is compared with a tolerance of `EPS_S` (1 ns), so that decimal inputs which are
exactly on a threshold (1.10 -> 1.35 s is a 0.25 s pause) land on the documented side of it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._numba import kernel

#: Tolerance of every time comparison, seconds; far below any recorded resolution (1 ms).
EPS_S = 1e-9

# What a segment did to the floor (`FloorResult.kind`); names in KIND_NAMES.
FIRST = 0            # the first segment: its speaker takes the floor
CONTINUE = 1         # the holder speaks again (after a pause inside the turn)
GAP = 2              # floor transfer after silence (offset >= 0)
SMOOTH_OVERLAP = 3   # floor transfer, holder stopped within the holdover (terminal overlap)
INTERRUPTION = 4     # floor transfer, holder went on >= holdover and the other >= continue after
OVERLAP_TRANSFER = 5  # floor transfer with a long holdover but a short continuation
BACKCHANNEL = 6      # short speech inside the holder's speech; no floor change
ATTEMPT = 7          # long speech inside the holder's speech (attempted interruption); no floor change
KIND_NAMES = ("first", "continue", "gap", "smooth_overlap", "interruption",
              "overlap_transfer", "backchannel", "attempted_interruption")
TRANSFER_KINDS = (GAP, SMOOTH_OVERLAP, INTERRUPTION, OVERLAP_TRANSFER)


class FloorResult(NamedTuple):
    """Per-segment outcome of the floor state machine, in the order of the input segments.

    kind int8 [shape=(n,)]: one of the constants above. holder int32: the floor holder before
    the segment (-1 for the first). offset_s float64: the floor-transfer offset (start minus
    the holder's last end) for transfers, the pause length for CONTINUE, 0 otherwise.
    overlap_s float64: seconds spoken at once with the holder (0 for FIRST/CONTINUE/GAP).
    turn_speaker int32, turn_start, turn_end float64 [shape=(turns,)]: the turns, in order.
    """

    kind: np.ndarray
    holder: np.ndarray
    offset_s: np.ndarray
    overlap_s: np.ndarray
    turn_speaker: np.ndarray
    turn_start: np.ndarray
    turn_end: np.ndarray


def bridge_pauses(starts: np.ndarray, ends: np.ndarray, speakers: np.ndarray, *,
                  bridge_pause_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge each speaker's segments across pauses shorter than `bridge_pause_s` seconds.

    Input arrays [shape=(n,)] sorted by speaker, then start. Touching or overlapping segments
    of one speaker are always merged; a pause of exactly `bridge_pause_s` is kept. Returns
    (starts, ends, speakers) of the merged segments, in the same order.
    """
    starts, ends, speakers = _as_arrays(starts, ends, speakers)
    n = starts.shape[0]
    out_s = np.empty(n, np.float64)
    out_e = np.empty(n, np.float64)
    out_k = np.empty(n, np.int32)
    m = _bridge(starts, ends, speakers, float(bridge_pause_s), out_s, out_e, out_k)
    return out_s[:m], out_e[:m], out_k[:m]


@kernel
def _bridge(starts, ends, speakers, bridge_pause_s, out_s, out_e, out_k):
    m = 0
    for i in range(starts.shape[0]):
        if m > 0 and out_k[m - 1] == speakers[i]:
            pause = starts[i] - out_e[m - 1]
            if pause <= EPS_S or pause < bridge_pause_s - EPS_S:
                if ends[i] > out_e[m - 1]:
                    out_e[m - 1] = ends[i]
                continue
        out_s[m] = starts[i]
        out_e[m] = ends[i]
        out_k[m] = speakers[i]
        m += 1
    return m


def run_floor(starts: np.ndarray, ends: np.ndarray, speakers: np.ndarray, *,
              backchannel_max_s: float, interruption_min_holdover_s: float,
              interruption_min_continue_s: float) -> FloorResult:
    """Classify each bridged segment by what it does to the floor, and cut the turns.

    Input arrays [shape=(n,)] sorted by start (ties: longer first, then speaker index), one
    speaker's segments never touching. Bounds: backchannel duration <=, holdover >= and
    continuation >= are inclusive; a segment starting exactly at the holder's end is a gap.
    """
    starts, ends, speakers = _as_arrays(starts, ends, speakers)
    n = starts.shape[0]
    kind = np.zeros(n, np.int8)
    holder = np.full(n, -1, np.int32)
    offset = np.zeros(n, np.float64)
    overlap = np.zeros(n, np.float64)
    turn_k = np.empty(n, np.int32)
    turn_s = np.empty(n, np.float64)
    turn_e = np.empty(n, np.float64)
    m = _floor(starts, ends, speakers, float(backchannel_max_s), float(interruption_min_holdover_s),
               float(interruption_min_continue_s), kind, holder, offset, overlap, turn_k, turn_s, turn_e)
    return FloorResult(kind, holder, offset, overlap, turn_k[:m], turn_s[:m], turn_e[:m])


@kernel
def _floor(starts, ends, speakers, backchannel_max_s, min_holdover_s, min_continue_s,
           kind, holder, offset, overlap, turn_k, turn_s, turn_e):
    n = starts.shape[0]
    if n == 0:
        return 0
    h = speakers[0]
    h_end = ends[0]
    kind[0] = FIRST
    turn_k[0] = h
    turn_s[0] = starts[0]
    m = 1
    for i in range(1, n):
        b, start, end = speakers[i], starts[i], ends[i]
        holder[i] = h
        if b == h:
            kind[i] = CONTINUE
            offset[i] = max(start - h_end, 0.0)
            h_end = max(h_end, end)
            continue
        if start >= h_end - EPS_S:
            kind[i] = GAP
        elif end <= h_end + EPS_S:
            kind[i] = BACKCHANNEL if end - start <= backchannel_max_s + EPS_S else ATTEMPT
            overlap[i] = end - start
            continue
        else:
            holdover = h_end - start
            if holdover < min_holdover_s - EPS_S:
                kind[i] = SMOOTH_OVERLAP
            elif end - h_end >= min_continue_s - EPS_S:
                kind[i] = INTERRUPTION
            else:
                kind[i] = OVERLAP_TRANSFER
            overlap[i] = holdover
        offset[i] = start - h_end
        turn_e[m - 1] = h_end
        turn_k[m] = b
        turn_s[m] = start
        m += 1
        h = b
        h_end = end
    turn_e[m - 1] = h_end
    return m


def _as_arrays(starts, ends, speakers) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts = np.ascontiguousarray(starts, dtype=np.float64)
    ends = np.ascontiguousarray(ends, dtype=np.float64)
    speakers = np.ascontiguousarray(speakers, dtype=np.int32)
    if not (starts.ndim == 1 and starts.shape == ends.shape == speakers.shape):
        raise ValueError(f"starts, ends, speakers must be 1-d of one length, got "
                         f"{starts.shape}, {ends.shape}, {speakers.shape}")
    return starts, ends, speakers
